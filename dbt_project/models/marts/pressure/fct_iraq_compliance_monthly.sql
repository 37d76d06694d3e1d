-- How Iraq responded, month by month from 2018-01 to the current month: Iraqi institutions barred
-- from dollars, Al-Huda Bank's 311 status, imports from Iran (and Iran's share, gas and
-- electricity), the Kurdistan pipeline, crude exports and Iraqi enforcement actions.
-- Each scored component is in [0, 1]; compliance_index = 100 x the mean of the scores that have
-- data (NULL when fewer than two do). Formulas: _pressure__models.yml. NULL is "no data", never zero.
{%- set caps = var('score_caps') %}
{%- set scores = ['score_institutions_barred', 'score_imports_from_iran_fall', 'score_iran_share_fall',
                  'score_energy_imports_fall', 'score_pipeline_restart', 'score_enforcement'] %}
{%- set trailing = var('trailing_months') %}
{%- set trailing_min = var('trailing_min_months') %}
with months as (

    select * from {{ ref('int_calendar__months') }}

),

banks as (

    select * from {{ ref('iraqi_banks_barred') }} where action_type = 'usd_access_barred'

),

fincen as (

    select * from {{ ref('fincen_311_actions') }}

),

trade as (

    select * from {{ ref('fct_iraq_iran_trade_monthly') }}

),

pipeline as (

    select * from {{ ref('int_oil__krg_pipeline_monthly') }}

),

oil as (

    select * from {{ ref('fct_oil_monthly') }} where country_iso3 = 'IRQ'

),

events as (

    select * from {{ ref('fct_sanctions_events') }}

),

banks_monthly as (

    select
        cast(date_trunc('month', action_date) as date) as month,
        count(*) as new_institutions_barred,
        count(case when institution_type = 'bank' then 1 end) as new_banks_barred,
        count(case when institution_type = 'payment_firm' then 1 end) as new_payment_firms_barred
    from banks
    group by 1

),

al_huda as (

    -- the latest 311 step taken by each month's end
    select
        months.month,
        arg_max(fincen.action_type, fincen.action_date) as last_step
    from months
    inner join fincen on fincen.action_date <= months.month_end
    group by months.month

),

enforcement as (

    select
        cast(date_trunc('month', event_date) as date) as month,
        count(*) as iraqi_enforcement_actions
    from events
    where event_type = 'iraqi_enforcement'
    group by 1

),

enforcement_register as (

    -- the component is scored only once the events register records any Iraqi enforcement action:
    -- until then a zero would be an absence of curation, not an absence of enforcement
    select count(*) > 0 as has_enforcement_actions from events where event_type = 'iraqi_enforcement'

),

measures as (

    select
        months.month,
        months.days_in_month,

        -- banks barred from dollars (register covers the whole calendar)
        coalesce(b.new_institutions_barred, 0) as new_institutions_barred,
        coalesce(b.new_banks_barred, 0) as new_banks_barred,
        coalesce(b.new_payment_firms_barred, 0) as new_payment_firms_barred,
        sum(coalesce(b.new_banks_barred, 0)) over (order by months.month) as banks_barred_cumulative,
        sum(coalesce(b.new_institutions_barred, 0)) over (order by months.month) as institutions_barred_cumulative,

        -- FinCEN 311, Al-Huda Bank
        case
            when al_huda.last_step is null then 'none'
            when al_huda.last_step in ('fincen_311_finding_announced', 'fincen_311_proposed_rule') then 'proposed'
            when al_huda.last_step in ('fincen_311_final_rule_issued', 'fincen_311_final_rule') then 'final'
            when al_huda.last_step = 'fincen_311_final_rule_effective' then 'in_effect'
        end as al_huda_311_status,

        -- trade with Iran (fct_iraq_iran_trade_monthly: best estimate, mirror or IMF estimate)
        trade.iraq_imports_from_iran_usd,
        trade.iraq_imports_source,
        trade.iran_share_of_iraq_imports,
        trade.iraq_gas_imports_from_iran_usd,
        trade.iraq_electricity_imports_from_iran_usd,
        trade.iraq_energy_imports_from_iran_usd,

        -- Kurdistan pipeline and Iraq's crude exports
        -- days count only through the register's last confirmation (krg_pipeline_active is NULL after it)
        case when pipeline.krg_pipeline_active is not null then pipeline.krg_pipeline_active_days end as krg_pipeline_active_days,
        case when pipeline.krg_pipeline_active is not null
             then pipeline.krg_pipeline_active_days / months.days_in_month end as krg_pipeline_active_share,
        pipeline.krg_exports_kbd,
        oil.exports_kbd as iraq_crude_exports_kbd,
        oil.exports_source as iraq_crude_exports_source,

        -- Iraqi enforcement actions (events register)
        case when enforcement_register.has_enforcement_actions then coalesce(e.iraqi_enforcement_actions, 0) end
            as iraqi_enforcement_actions

    from months
    cross join enforcement_register
    left join banks_monthly as b on b.month = months.month
    left join al_huda on al_huda.month = months.month
    left join trade on trade.month = months.month
    left join pipeline on pipeline.month = months.month
    left join oil on oil.month = months.month
    left join enforcement as e on e.month = months.month

),

with_trailing as (

    -- the mean of the previous {{ trailing }} months, and how many of them had data
    select
        measures.*,
        avg(iraq_imports_from_iran_usd) over w as imports_trailing_mean,
        count(iraq_imports_from_iran_usd) over w as imports_trailing_months,
        avg(iran_share_of_iraq_imports) over w as share_trailing_mean,
        count(iran_share_of_iraq_imports) over w as share_trailing_months,
        avg(iraq_energy_imports_from_iran_usd) over w as energy_trailing_mean,
        count(iraq_energy_imports_from_iran_usd) over w as energy_trailing_months,
        lag(krg_pipeline_active_share) over (order by month) as previous_month_pipeline_share
    from measures
    window w as (order by month rows between {{ trailing }} preceding and 1 preceding)

),


scored as (

    select
        with_trailing.*,
        {{ capped_score('new_institutions_barred', caps.institutions_barred) }} as score_institutions_barred,
        {{ fall_score('iraq_imports_from_iran_usd', 'imports_trailing_mean', 'imports_trailing_months', trailing_min) }} as score_imports_from_iran_fall,
        {{ fall_score('iran_share_of_iraq_imports', 'share_trailing_mean', 'share_trailing_months', trailing_min) }} as score_iran_share_fall,
        {{ fall_score('iraq_energy_imports_from_iran_usd', 'energy_trailing_mean', 'energy_trailing_months', trailing_min) }} as score_energy_imports_fall,
        case when krg_pipeline_active_share is not null and previous_month_pipeline_share is not null
             then greatest(krg_pipeline_active_share - previous_month_pipeline_share, 0.0) end as score_pipeline_restart,
        {{ capped_score('iraqi_enforcement_actions', caps.enforcement_actions) }} as score_enforcement
    from with_trailing

)

select
    -- the month
    month,

    -- banks barred from dollars; the denominator of the share is var('licensed_banks_denominator')
    cast(new_institutions_barred as integer) as new_institutions_barred,
    cast(new_banks_barred as integer) as new_banks_barred,
    cast(new_payment_firms_barred as integer) as new_payment_firms_barred,
    cast(banks_barred_cumulative as integer) as banks_barred_cumulative,
    cast(institutions_barred_cumulative as integer) as institutions_barred_cumulative,
    cast({{ var('licensed_banks_denominator') }} as integer) as licensed_banks_denominator,
    cast(banks_barred_cumulative / {{ var('licensed_banks_denominator') }} as double) as share_of_licensed_banks_barred,
    al_huda_311_status,

    -- trade with Iran
    cast(iraq_imports_from_iran_usd as double) as iraq_imports_from_iran_usd,
    iraq_imports_source,
    cast(iran_share_of_iraq_imports as double) as iran_share_of_iraq_imports,
    cast(iraq_gas_imports_from_iran_usd as double) as iraq_gas_imports_from_iran_usd,
    cast(iraq_electricity_imports_from_iran_usd as double) as iraq_electricity_imports_from_iran_usd,
    cast(iraq_energy_imports_from_iran_usd as double) as iraq_energy_imports_from_iran_usd,
    cast(imports_trailing_mean as double) as imports_trailing_mean_usd,
    cast(imports_trailing_months as integer) as imports_trailing_months,

    -- oil
    cast(krg_pipeline_active_days as integer) as krg_pipeline_active_days,
    cast(krg_exports_kbd as double) as krg_exports_kbd,
    cast(iraq_crude_exports_kbd as double) as iraq_crude_exports_kbd,
    iraq_crude_exports_source,

    -- enforcement
    cast(iraqi_enforcement_actions as integer) as iraqi_enforcement_actions,

    -- component scores in [0, 1] and the index
    cast(score_institutions_barred as double) as score_institutions_barred,
    cast(score_imports_from_iran_fall as double) as score_imports_from_iran_fall,
    cast(score_iran_share_fall as double) as score_iran_share_fall,
    cast(score_energy_imports_fall as double) as score_energy_imports_fall,
    cast(score_pipeline_restart as double) as score_pipeline_restart,
    cast(score_enforcement as double) as score_enforcement,
    {{ index_columns(scores, 'compliance_index') }}
from scored
order by month
