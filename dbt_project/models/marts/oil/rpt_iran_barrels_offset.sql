-- How far Iraq's crude exports make up for Iran's, month by month, against a baseline period
-- (var `iran_offset_baseline`, default calendar 2024: the last full year before NSPM-2).
-- Both countries from JODI's TOTEXPSB, so the two changes share one publisher and one definition;
-- SOMO's Iraqi total is shown beside it for reference.
{%- set baseline = var('iran_offset_baseline') %}
with oil as (

    select * from {{ ref('fct_oil_monthly') }}

),

baseline as (

    select
        country_iso3,
        avg(exports_kbd_jodi) as baseline_kbd,
        count(exports_kbd_jodi) as baseline_months
    from oil
    where month between cast('{{ baseline["start"] }}' as date) and cast('{{ baseline["end"] }}' as date)
    group by country_iso3

),

months as (

    select distinct month
    from oil
    where month > cast('{{ baseline["end"] }}' as date)
      and exports_kbd_jodi is not null

),

sides as (

    select
        months.month,
        iran.exports_kbd_jodi as iran_exports_kbd,
        iran_base.baseline_kbd as iran_baseline_kbd,
        coalesce(iran_base.baseline_months, 0) as iran_baseline_months,
        iraq.exports_kbd_jodi as iraq_exports_kbd,
        iraq_base.baseline_kbd as iraq_baseline_kbd,
        coalesce(iraq_base.baseline_months, 0) as iraq_baseline_months,
        iraq.exports_kbd_somo as iraq_exports_kbd_somo,
        iraq.krg_pipeline_active,
        coalesce(iran.is_sample, false) or coalesce(iraq.is_sample, false) as is_sample
    from months
    left join oil as iran on iran.month = months.month and iran.country_iso3 = 'IRN'
    left join oil as iraq on iraq.month = months.month and iraq.country_iso3 = 'IRQ'
    left join baseline as iran_base on iran_base.country_iso3 = 'IRN'
    left join baseline as iraq_base on iraq_base.country_iso3 = 'IRQ'

),

changes as (

    select
        *,
        iran_exports_kbd - iran_baseline_kbd as iran_change_kbd,
        iraq_exports_kbd - iraq_baseline_kbd as iraq_change_kbd
    from sides

),

final as (

    select
        month,
        cast('{{ baseline["start"] }}' as date) as baseline_start,
        cast('{{ baseline["end"] }}' as date) as baseline_end,

        cast(iran_exports_kbd as double) as iran_exports_kbd,
        cast(iran_baseline_kbd as double) as iran_baseline_kbd,
        cast(iran_change_kbd as double) as iran_change_kbd,
        cast(iran_baseline_months as integer) as iran_baseline_months,

        cast(iraq_exports_kbd as double) as iraq_exports_kbd,
        cast(iraq_baseline_kbd as double) as iraq_baseline_kbd,
        cast(iraq_change_kbd as double) as iraq_change_kbd,
        cast(iraq_baseline_months as integer) as iraq_baseline_months,

        -- share of Iran's lost barrels that Iraq's extra barrels cover (negative: Iraq fell too)
        cast(case when iran_change_kbd < 0 and iraq_change_kbd is not null
                  then iraq_change_kbd / (-iran_change_kbd) end as double) as iraq_offset_share,
        case
            when iran_change_kbd is null or iraq_change_kbd is null then 'incomplete'
            when iran_change_kbd < 0 then 'iran_exports_down'
            else 'iran_exports_not_down'
        end as offset_status,

        cast(iraq_exports_kbd_somo as double) as iraq_exports_kbd_somo,
        krg_pipeline_active,
        is_sample
    from changes

)

select * from final
