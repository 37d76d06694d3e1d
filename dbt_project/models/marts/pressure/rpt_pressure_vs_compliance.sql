-- Both monthly series side by side: the pressure index and the compliance index, their component
-- counts, and each index's 3-month trailing mean (NULL until 3 months of it have data).
with pressure as (

    select * from {{ ref('fct_sanctions_pressure_monthly') }}

),

compliance as (

    select * from {{ ref('fct_iraq_compliance_monthly') }}

)

select
    pressure.month,
    pressure.pressure_index,
    pressure.n_components as pressure_n_components,
    compliance.compliance_index,
    compliance.n_components as compliance_n_components,
    cast(case when count(pressure.pressure_index) over w3 = 3 then avg(pressure.pressure_index) over w3 end as double)
        as pressure_index_3m,
    cast(case when count(compliance.compliance_index) over w3 = 3 then avg(compliance.compliance_index) over w3 end as double)
        as compliance_index_3m
from pressure
inner join compliance on compliance.month = pressure.month
window w3 as (order by pressure.month rows between 2 preceding and current row)
order by pressure.month
