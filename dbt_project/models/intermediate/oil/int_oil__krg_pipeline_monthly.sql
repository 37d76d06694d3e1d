-- Kurdistan's pipeline per month in which we hold any Iraqi oil figure or that the pressure calendar holds: whether it was active at
-- month end (NULL outside the register or after its last confirmation), the confirmed active days,
-- and Kurdistan's exports via Ceyhan where published (monthly SOMO figure first, else the average
-- of a published multi-month total that covers the whole month).
with months as (

    -- every month with an Iraqi oil figure, and every month of the pressure calendar (2018 on)
    select distinct month, {{ month_last_day('month') }} as month_end
    from (
        select month from {{ ref('int_oil__series_unioned') }} where country_iso3 = 'IRQ'
        union
        select month from {{ ref('int_calendar__months') }}
    ) as all_months

),

pipeline as (

    select * from {{ ref('krg_pipeline_status') }}

),

deliveries as (

    select * from {{ ref('krg_ceyhan_deliveries') }}

),

somo as (

    select * from {{ ref('somo_monthly_exports') }}

),

status_by_month as (

    select
        months.month,
        months.month_end,
        max(case when pipeline.period_start <= months.month_end
                  and (pipeline.period_end is null or pipeline.period_end >= months.month_end)
                 then pipeline.status end) as status_at_month_end,
        max(case when pipeline.period_start <= months.month_end
                  and (pipeline.period_end is null or pipeline.period_end >= months.month_end)
                 then pipeline.last_confirmed end) as confirmed_through,
        sum(case when pipeline.status = 'active' then
                {{ dbt.datediff(
                    'greatest(pipeline.period_start, months.month)',
                    'least(coalesce(pipeline.period_end, pipeline.last_confirmed), pipeline.last_confirmed, months.month_end)',
                    'day') }} + 1
            end) as active_days_raw,
        count(pipeline.period_start) as periods_overlapping
    from months
    left join pipeline
        on pipeline.period_start <= months.month_end
        and coalesce(pipeline.period_end, months.month_end) >= months.month
    group by months.month, months.month_end

),

exports as (

    select
        status_by_month.month,
        somo.kurdistan_ceyhan_barrels / ({{ days_in_month('status_by_month.month') }}) / 1000.0 as monthly_kbd,
        max(deliveries.average_kbd) as period_average_kbd
    from status_by_month
    left join somo
        on somo.month = status_by_month.month
        and somo.kurdistan_ceyhan_barrels is not null
    left join deliveries
        on deliveries.period_start <= status_by_month.month
        and deliveries.period_end >= status_by_month.month_end
    group by status_by_month.month, somo.kurdistan_ceyhan_barrels

),

final as (

    select
        status_by_month.month,
        case
            when status_by_month.status_at_month_end is null then null
            when status_by_month.month_end > status_by_month.confirmed_through then null
            else status_by_month.status_at_month_end = 'active'
        end as krg_pipeline_active,
        case when status_by_month.periods_overlapping > 0
             then cast(greatest(coalesce(status_by_month.active_days_raw, 0), 0) as integer)
        end as krg_pipeline_active_days,
        coalesce(exports.monthly_kbd, exports.period_average_kbd) as krg_exports_kbd,
        case
            when exports.monthly_kbd is not null then 'somo_monthly'
            when exports.period_average_kbd is not null then 'period_average'
        end as krg_exports_basis
    from status_by_month
    left join exports on exports.month = status_by_month.month

)

select * from final
