-- Comtrade rows in the shared trade shape. Values are the reporter's customs figures (Comtrade's
-- totals are UNSD sums of reported detail), so they are not flagged as estimates; quantity
-- estimation flags stay in staging.
with flows as (

    select * from {{ ref('stg_comtrade__trade_flows') }}

),

mapped as (

    select
        -- dates
        period_start as period,
        case frequency when 'M' then 'month' when 'A' then 'year' end as period_grain,

        -- who reports what with whom
        reporter_iso3,
        partner_iso3,
        case flow_code when 'M' then 'import' when 'X' then 'export' end as flow,
        hs_code,

        -- measures
        value_usd,
        quantity,
        case when quantity is not null then quantity_unit end as quantity_unit,

        -- labels
        'comtrade' as source,
        false as is_estimate,

        -- provenance
        source_url,
        fetched_at

    from flows

)

select * from mapped
