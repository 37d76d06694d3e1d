-- One row per month from var('pressure_start') (2018-01) to the current month: the spine every
-- monthly pressure and compliance measure is built on, so a month without data is a NULL row,
-- never a missing one.
with spine as (

    select cast(month as date) as month
    from generate_series(
        cast('{{ var("pressure_start") }}' as date),
        cast(date_trunc('month', current_date) as date),
        interval 1 month
    ) as months(month)

)

select
    month,
    {{ month_last_day('month') }} as month_end,
    {{ days_in_month('month') }} as days_in_month
from spine
