-- Iraq's and Iran's crude production and exports per month, side by side by source (JODI, EIA,
-- SOMO), with each source's quality flags, a best estimate that names its source, and Kurdistan's
-- pipeline status and exports. One row per country and month.
with series as (

    select * from {{ ref('int_oil__series_unioned') }}

),

krg as (

    select * from {{ ref('int_oil__krg_pipeline_monthly') }}

),

pivoted as (

    select
        month,
        country_iso3,

        max(case when source = 'jodi' and measure = 'production' then value_kbd end) as production_kbd_jodi,
        max(case when source = 'eia' and measure = 'production' then value_kbd end) as production_kbd_eia,
        max(case when source = 'jodi' and measure = 'exports' then value_kbd end) as exports_kbd_jodi,
        max(case when source = 'somo' and measure = 'exports' then value_kbd end) as exports_kbd_somo,
        max(case when source = 'somo' and measure = 'exports' then barrels end) as somo_exports_barrels,

        max(case when source = 'jodi' and measure = 'production' then value_marker end) as jodi_production_marker,
        max(case when source = 'jodi' and measure = 'exports' then value_marker end) as jodi_exports_marker,
        max(case when source = 'jodi' and measure = 'production' then assessment_code end) as jodi_production_assessment_code,
        max(case when source = 'jodi' and measure = 'exports' then assessment_code end) as jodi_exports_assessment_code,
        max(case when source = 'eia' and measure = 'production' then value_marker end) as eia_production_marker,
        max(case when source = 'somo' then figure_status end) as somo_figure_status,
        max(case when source = 'somo' then source_url end) as somo_source_url,

        max(case when is_sample then 1 else 0 end) = 1 as is_sample

    from series
    group by month, country_iso3

),

final as (

    select
        -- keys
        pivoted.month,
        pivoted.country_iso3,

        -- best estimates, each naming its source: JODI (the country's own report) before EIA's
        -- estimate for production; SOMO's published total before JODI for Iraq's exports
        cast(coalesce(pivoted.production_kbd_jodi, pivoted.production_kbd_eia) as double) as production_kbd,
        case
            when pivoted.production_kbd_jodi is not null then 'jodi'
            when pivoted.production_kbd_eia is not null then 'eia'
        end as production_source,
        cast(coalesce(pivoted.exports_kbd_somo, pivoted.exports_kbd_jodi) as double) as exports_kbd,
        case
            when pivoted.exports_kbd_somo is not null then 'somo'
            when pivoted.exports_kbd_jodi is not null then 'jodi'
        end as exports_source,

        -- by source (kb/d)
        cast(pivoted.production_kbd_jodi as double) as production_kbd_jodi,
        cast(pivoted.production_kbd_eia as double) as production_kbd_eia,
        cast(pivoted.exports_kbd_jodi as double) as exports_kbd_jodi,
        cast(pivoted.exports_kbd_somo as double) as exports_kbd_somo,
        cast(pivoted.somo_exports_barrels as bigint) as somo_exports_barrels,

        -- quality flags
        pivoted.jodi_production_marker,
        pivoted.jodi_exports_marker,
        cast(pivoted.jodi_production_assessment_code as integer) as jodi_production_assessment_code,
        cast(pivoted.jodi_exports_assessment_code as integer) as jodi_exports_assessment_code,
        pivoted.eia_production_marker,
        pivoted.somo_figure_status,

        -- Kurdistan (Iraq only)
        krg.krg_pipeline_active,
        krg.krg_pipeline_active_days,
        cast(krg.krg_exports_kbd as double) as krg_exports_kbd,
        krg.krg_exports_basis,

        -- provenance
        pivoted.somo_source_url,
        pivoted.is_sample

    from pivoted
    left join krg
        on krg.month = pivoted.month
        and pivoted.country_iso3 = 'IRQ'

)

select * from final
