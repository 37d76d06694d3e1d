-- Does Iraq's compliance follow US pressure? The Pearson correlation of each compliance component
-- (and the compliance index) in month t + lag with the pressure index in month t, for lags of 0
-- to 12 months, over the months where both have data; `n_months` says how many months each
-- figure rests on (NULL correlation below 6). A correlation, not a causal estimate: see
-- rpt_event_study for before / after differences around the key events.
with pressure as (

    select month, pressure_index from {{ ref('fct_sanctions_pressure_monthly') }}

),

compliance as (

    select * from {{ ref('fct_iraq_compliance_monthly') }}

),

scores as (

    select
        month,
        compliance_index,
        score_institutions_barred,
        score_imports_from_iran_fall,
        score_iran_share_fall,
        score_energy_imports_fall,
        score_pipeline_restart,
        score_enforcement
    from compliance

),

components as (

    -- NULLs kept, so a component without any data still gets its rows (n_months 0)
    select month, component, value
    from scores
    unpivot include nulls (
        value for component in (
            compliance_index, score_institutions_barred, score_imports_from_iran_fall, score_iran_share_fall,
            score_energy_imports_fall, score_pipeline_restart, score_enforcement
        )
    )

),

lags as (

    select cast(lag_months as integer) as lag_months from generate_series(0, 12) as lags(lag_months)

),

pairs as (

    select
        components.component,
        lags.lag_months,
        pressure.pressure_index,
        components.value as compliance_value
    from lags
    cross join pressure
    inner join components
        on components.month = cast(pressure.month + to_months(lags.lag_months) as date)
    where pressure.pressure_index is not null
      and components.value is not null

),

names as (

    select distinct component from components

)

select
    names.component,
    lags.lag_months,
    cast(count(pairs.pressure_index) as integer) as n_months,
    cast(case when count(pairs.pressure_index) >= 6 then corr(pairs.compliance_value, pairs.pressure_index) end as double)
        as correlation
from names
cross join lags
left join pairs on pairs.component = names.component and pairs.lag_months = lags.lag_months
group by names.component, lags.lag_months
order by names.component, lags.lag_months
