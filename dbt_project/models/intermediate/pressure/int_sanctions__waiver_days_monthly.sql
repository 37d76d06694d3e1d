-- Days per month the Iraq electricity waiver was in force (seed iraq_electricity_waiver), and
-- the change against the month before: the lapse of 2025-03-08 is the drop that counts as pressure.
with months as (

    select * from {{ ref('int_calendar__months') }}

),

waiver as (

    select * from {{ ref('iraq_electricity_waiver') }}

),

days as (

    select
        months.month,
        months.days_in_month,
        coalesce(sum(
            case when waiver.period_start is not null then
                {{ dbt.datediff('greatest(waiver.period_start, months.month)', 'least(waiver.period_end, months.month_end)', 'day') }} + 1
            end
        ), 0) as waiver_in_force_days
    from months
    left join waiver
        on waiver.period_start <= months.month_end
        and waiver.period_end >= months.month
    group by months.month, months.days_in_month

)

select
    month,
    days_in_month,
    cast(waiver_in_force_days as integer) as waiver_in_force_days,
    waiver_in_force_days / days_in_month as waiver_in_force_share,
    lag(waiver_in_force_days / days_in_month) over (order by month) as previous_month_in_force_share
from days
