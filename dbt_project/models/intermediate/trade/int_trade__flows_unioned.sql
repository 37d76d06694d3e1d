-- IMF and Comtrade flows side by side, each labelled mirror or not.
--
-- is_mirror: the figure is a third country's report of its trade with Iraq or Iran (the partner is
-- Iraq or Iran, the reporter is neither), so it shows Iraq's / Iran's trade only in reverse.
with imf as (

    select * from {{ ref('int_imf__trade_flows_mapped') }}

),

comtrade as (

    select * from {{ ref('int_comtrade__trade_flows_mapped') }}

),

unioned as (

    select * from imf
    union all
    select * from comtrade

),

labelled as (

    select
        period,
        period_grain,
        reporter_iso3,
        partner_iso3,
        flow,
        hs_code,
        value_usd,
        quantity,
        quantity_unit,
        source,
        (partner_iso3 in ('IRQ', 'IRN') and reporter_iso3 not in ('IRQ', 'IRN')) as is_mirror,
        is_estimate,
        source_url,
        fetched_at
    from unioned

)

select * from labelled
