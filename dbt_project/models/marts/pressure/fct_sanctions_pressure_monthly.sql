-- How hard the US pressed Iraq over Iran, month by month from 2018-01 to the current month.
-- Every measure is a count of US actions in the month (flows, not states); each becomes a score
-- in [0, 1] and pressure_index = 100 x the mean of the scores that have data (NULL when fewer
-- than two do). Formulas and caps: the model's docs (_pressure__models.yml) and dbt_project.yml
-- var `score_caps`. A month a source does not cover is NULL, never zero.
{%- set caps = var('score_caps') %}
{%- set scores = ['score_iraq_designations', 'score_iran_designations', 'score_federal_register', 'score_fincen',
                  'score_presidential', 'score_waiver_withdrawn', 'score_warnings'] %}
with months as (

    select * from {{ ref('int_calendar__months') }}

),

designations as (

    select * from {{ ref('int_sanctions__designations_dated') }}

),

events as (

    select * from {{ ref('fct_sanctions_events') }}

),

documents as (

    select * from {{ ref('int_federal_register__documents') }}
    where is_in_scope

),

fincen as (

    select * from {{ ref('fincen_311_actions') }}

),

fincen_documents as (

    -- FR documents that are FinCEN 311 steps count once, as FinCEN actions, not again as FR actions
    select distinct fr_document_number as document_number
    from fincen
    where fr_document_number is not null and fr_document_number <> ''

),

fincen_monthly as (

    -- a 311 step is an act of FinCEN's; the day a final rule takes effect is not a new one
    select cast(date_trunc('month', action_date) as date) as month, count(*) as fincen_actions
    from fincen
    where action_type <> 'fincen_311_final_rule_effective'
    group by 1

),

waiver as (

    select * from {{ ref('int_sanctions__waiver_days_monthly') }}

),

coverage as (

    -- a source covers the calendar only when it was loaded: no listing dates, no FR documents -> NULL
    select
        (select count(*) from designations) > 0 as has_listing_dates,
        (select count(*) from {{ ref('int_federal_register__documents') }}) > 0 as has_federal_register,
        (select cast(date_trunc('month', min(observed_at)) as date) from {{ ref('ofac_list_observations') }}) as first_observed_month

),

designations_monthly as (

    select
        listing_month as month,
        count(distinct case when iraq_nexus then ent_num end) as new_iraq_nexus_entities,
        count(case when iraq_nexus then 1 end) as new_iraq_nexus_designations,
        count(distinct case when iraq_nexus then listing_date end) as iraq_nexus_designation_days,
        count(distinct case when iran_nexus then ent_num end) as new_iran_nexus_entities,
        count(case when iran_nexus then 1 end) as new_iran_nexus_designations,
        count(distinct case when iran_nexus then listing_date end) as iran_nexus_designation_days,
        count(distinct case when (iraq_nexus or iran_nexus) and is_oil then ent_num end) as new_oil_entities,
        count(distinct case when (iraq_nexus or iran_nexus) and is_irgc then ent_num end) as new_irgc_entities,
        count(distinct case when (iraq_nexus or iran_nexus) and is_militia then ent_num end) as new_militia_entities,
        count(distinct case when (iraq_nexus or iran_nexus) and is_financial then ent_num end) as new_financial_entities
    from designations
    group by listing_month

),

delistings_monthly as (

    select
        cast(date_trunc('month', event_date) as date) as month,
        count(case when iraq_nexus then 1 end) as delisted_iraq_nexus_entities,
        count(case when iran_nexus then 1 end) as delisted_iran_nexus_entities
    from events
    where event_type = 'delisting'
    group by 1

),

documents_monthly as (

    select
        cast(date_trunc('month', publication_date) as date) as month,
        count(case when document_type = 'Rule' and not is_fincen_step then 1 end) as fr_rules,
        count(case when document_type = 'Proposed Rule' and not is_fincen_step then 1 end) as fr_proposed_rules,
        count(case when document_type = 'Notice' and not is_fincen_step then 1 end) as fr_notices,
        count(case when is_presidential and not is_iraq_emergency_continuation then 1 end) as fr_presidential_documents,
        count(case when is_iraq_emergency_continuation then 1 end) as fr_iraq_emergency_continuations
    from (
        select documents.*, fincen_documents.document_number is not null as is_fincen_step
        from documents
        left join fincen_documents on fincen_documents.document_number = documents.document_number
    ) as flagged
    group by 1

),

curated_monthly as (

    select
        cast(date_trunc('month', event_date) as date) as month,
        count(case when event_type = 'presidential_action' and source = 'sanctions_events' then 1 end) as curated_presidential_actions,
        count(case when event_type = 'warning' then 1 end) as warnings
    from events
    where source <> 'federal_register'
    group by 1

),

measures as (

    select
        months.month,
        months.days_in_month,

        -- designations (clock 1: legal effect); NULL where no advanced XML was loaded
        case when coverage.has_listing_dates then coalesce(d.new_iraq_nexus_entities, 0) end as new_iraq_nexus_entities,
        case when coverage.has_listing_dates then coalesce(d.new_iraq_nexus_designations, 0) end as new_iraq_nexus_designations,
        case when coverage.has_listing_dates then coalesce(d.iraq_nexus_designation_days, 0) end as iraq_nexus_designation_days,
        case when coverage.has_listing_dates then coalesce(d.new_iran_nexus_entities, 0) end as new_iran_nexus_entities,
        case when coverage.has_listing_dates then coalesce(d.new_iran_nexus_designations, 0) end as new_iran_nexus_designations,
        case when coverage.has_listing_dates then coalesce(d.iran_nexus_designation_days, 0) end as iran_nexus_designation_days,
        case when coverage.has_listing_dates then coalesce(d.new_oil_entities, 0) end as new_oil_entities,
        case when coverage.has_listing_dates then coalesce(d.new_irgc_entities, 0) end as new_irgc_entities,
        case when coverage.has_listing_dates then coalesce(d.new_militia_entities, 0) end as new_militia_entities,
        case when coverage.has_listing_dates then coalesce(d.new_financial_entities, 0) end as new_financial_entities,

        -- delistings (clock 2 where known, else 3); only months since the first observed list
        case when months.month >= coverage.first_observed_month then coalesce(x.delisted_iraq_nexus_entities, 0) end as delisted_iraq_nexus_entities,
        case when months.month >= coverage.first_observed_month then coalesce(x.delisted_iran_nexus_entities, 0) end as delisted_iran_nexus_entities,

        -- Federal Register (publication date); NULL where the source was not loaded
        case when coverage.has_federal_register then coalesce(f.fr_rules, 0) end as fr_rules,
        case when coverage.has_federal_register then coalesce(f.fr_proposed_rules, 0) end as fr_proposed_rules,
        case when coverage.has_federal_register then coalesce(f.fr_notices, 0) end as fr_notices,
        case when coverage.has_federal_register then coalesce(f.fr_presidential_documents, 0) end as fr_presidential_documents,
        case when coverage.has_federal_register then coalesce(f.fr_iraq_emergency_continuations, 0) end as fr_iraq_emergency_continuations,

        -- curated registers (cover the whole calendar)
        coalesce(fincen_monthly.fincen_actions, 0) as fincen_actions,
        waiver.waiver_in_force_days,
        coalesce(c.curated_presidential_actions, 0)
            + case when coverage.has_federal_register then coalesce(f.fr_presidential_documents, 0) else 0 end as presidential_actions,
        coalesce(c.warnings, 0) as warnings,
        waiver.waiver_in_force_share,
        coalesce(waiver.previous_month_in_force_share, 0) as previous_month_waiver_share

    from months
    cross join coverage
    left join designations_monthly as d on d.month = months.month
    left join delistings_monthly as x on x.month = months.month
    left join documents_monthly as f on f.month = months.month
    left join curated_monthly as c on c.month = months.month
    left join fincen_monthly on fincen_monthly.month = months.month
    left join waiver on waiver.month = months.month

),

scored as (

    select
        measures.*,
        {{ capped_score('iraq_nexus_designation_days', caps.iraq_designation_days) }} as score_iraq_designations,
        {{ capped_score('iran_nexus_designation_days', caps.iran_designation_days) }} as score_iran_designations,
        {{ capped_score('(fr_rules + fr_proposed_rules + fr_notices)', caps.federal_register_actions) }} as score_federal_register,
        {{ capped_score('fincen_actions', caps.fincen_actions) }} as score_fincen,
        {{ capped_score('presidential_actions', caps.presidential_actions) }} as score_presidential,
        greatest(previous_month_waiver_share - waiver_in_force_share, 0.0) as score_waiver_withdrawn,
        {{ capped_score('warnings', caps.warnings) }} as score_warnings
    from measures

)

select
    -- the month
    month,

    -- designations with an Iraq or Iran nexus, by legal effect (advanced XML)
    cast(new_iraq_nexus_entities as integer) as new_iraq_nexus_entities,
    cast(new_iraq_nexus_designations as integer) as new_iraq_nexus_designations,
    cast(iraq_nexus_designation_days as integer) as iraq_nexus_designation_days,
    cast(new_iran_nexus_entities as integer) as new_iran_nexus_entities,
    cast(new_iran_nexus_designations as integer) as new_iran_nexus_designations,
    cast(iran_nexus_designation_days as integer) as iran_nexus_designation_days,
    cast(new_oil_entities as integer) as new_oil_entities,
    cast(new_irgc_entities as integer) as new_irgc_entities,
    cast(new_militia_entities as integer) as new_militia_entities,
    cast(new_financial_entities as integer) as new_financial_entities,
    cast(delisted_iraq_nexus_entities as integer) as delisted_iraq_nexus_entities,
    cast(delisted_iran_nexus_entities as integer) as delisted_iran_nexus_entities,

    -- Federal Register actions in scope, by type; the yearly Iraq-emergency continuations apart
    cast(fr_rules as integer) as fr_rules,
    cast(fr_proposed_rules as integer) as fr_proposed_rules,
    cast(fr_notices as integer) as fr_notices,
    cast(fr_presidential_documents as integer) as fr_presidential_documents,
    cast(fr_iraq_emergency_continuations as integer) as fr_iraq_emergency_continuations,

    -- FinCEN, the waiver, the President, warnings
    cast(fincen_actions as integer) as fincen_actions,
    cast(waiver_in_force_days as integer) as waiver_in_force_days,
    cast(presidential_actions as integer) as presidential_actions,
    cast(warnings as integer) as warnings,

    -- component scores in [0, 1] and the index
    cast(score_iraq_designations as double) as score_iraq_designations,
    cast(score_iran_designations as double) as score_iran_designations,
    cast(score_federal_register as double) as score_federal_register,
    cast(score_fincen as double) as score_fincen,
    cast(score_presidential as double) as score_presidential,
    cast(score_waiver_withdrawn as double) as score_waiver_withdrawn,
    cast(score_warnings as double) as score_warnings,
    {{ index_columns(scores, 'pressure_index') }}
from scored
order by month
