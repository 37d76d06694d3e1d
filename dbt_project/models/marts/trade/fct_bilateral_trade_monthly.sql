-- One row per period, reporter, partner, flow, HS code and source. Monthly wherever the source has
-- months; a source's annual figure is kept only for a year in which it has no month of that flow.
with flows as (

    select * from {{ ref('int_trade__flows_unioned') }}

),

monthly_years as (

    select distinct
        source,
        reporter_iso3,
        partner_iso3,
        flow,
        hs_code,
        extract(year from period) as period_year
    from flows
    where period_grain = 'month'

),

kept as (

    select flows.*
    from flows
    left join monthly_years
        on flows.period_grain = 'year'
        and monthly_years.source = flows.source
        and monthly_years.reporter_iso3 = flows.reporter_iso3
        and monthly_years.partner_iso3 = flows.partner_iso3
        and monthly_years.flow = flows.flow
        and monthly_years.hs_code = flows.hs_code
        and monthly_years.period_year = extract(year from flows.period)
    where monthly_years.source is null

),

final as (

    select
        -- dates
        cast(period as date) as period,
        cast(period_grain as varchar) as period_grain,

        -- key
        cast(reporter_iso3 as varchar) as reporter_iso3,
        cast(partner_iso3 as varchar) as partner_iso3,
        cast(flow as varchar) as flow,
        cast(hs_code as varchar) as hs_code,

        -- measures
        cast(value_usd as double) as value_usd,
        cast(quantity as double) as quantity,
        cast(quantity_unit as varchar) as quantity_unit,

        -- labels
        cast(source as varchar) as source,
        cast(is_mirror as boolean) as is_mirror,
        cast(is_estimate as boolean) as is_estimate,

        -- provenance
        cast(source_url as varchar) as source_url,
        fetched_at

    from kept

)

select * from final
