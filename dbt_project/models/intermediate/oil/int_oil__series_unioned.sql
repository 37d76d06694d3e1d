-- Every monthly crude rate we hold, one row per country, month, measure and source, in kb/d:
-- JODI (production and exports, both countries), EIA (production), SOMO (Iraq's exports, barrels
-- per month converted at barrels / days in month / 1000).
with jodi as (

    select * from {{ ref('stg_jodi__crude_oil') }}

),

eia as (

    select * from {{ ref('stg_eia__crude_production') }}

),

somo as (

    select * from {{ ref('somo_monthly_exports') }}

),

unioned as (

    select
        country_iso3,
        month,
        measure,
        'jodi' as source,
        value_kbd,
        value_marker,
        assessment_code,
        cast(null as varchar) as figure_status,
        cast(null as bigint) as barrels,
        source_url,
        is_sample
    from jodi

    union all

    select
        country_iso3,
        month,
        measure,
        'eia' as source,
        value_kbd,
        value_marker,
        cast(null as integer) as assessment_code,
        cast(null as varchar) as figure_status,
        cast(null as bigint) as barrels,
        source_url,
        is_sample
    from eia

    union all

    select
        'IRQ' as country_iso3,
        month,
        'exports' as measure,
        'somo' as source,
        barrels / ({{ days_in_month('month') }}) / 1000.0 as value_kbd,
        cast(null as varchar) as value_marker,
        cast(null as integer) as assessment_code,
        figure_status,
        barrels,
        source_url,
        false as is_sample  -- curated from published statements, never sample data
    from somo

)

select * from unioned
