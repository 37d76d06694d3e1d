-- One row per SDN entry ever observed: its latest attributes, Iraq / Iran nexus and listing status.
with observations as (

    select * from {{ ref('ofac_list_observations') }}

),

members as (

    select * from {{ ref('ofac_list_members') }}

),

states as (

    select * from {{ ref('ofac_entity_states') }}

),

latest_observation as (

    select max(observed_at) as observed_at from observations

),

seen as (

    select
        ent_num,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at
    from members
    group by ent_num

),

last_state as (

    select members.*
    from members
    inner join seen
        on seen.ent_num = members.ent_num
        and seen.last_observed_at = members.observed_at

),

final as (

    select
        -- ids
        last_state.ent_num,

        -- attributes as last observed
        states.name,
        states.entity_type,
        states.programs,
        states.aliases,
        states.countries,
        states.title,
        states.vessel_flag,
        states.remarks,

        -- nexus
        last_state.iraq_nexus,
        last_state.iran_nexus,
        last_state.nexus_reasons,

        -- listing
        seen.first_observed_at,
        seen.last_observed_at,
        seen.last_observed_at = latest_observation.observed_at as is_listed,
        last_state.list_version as last_list_version

    from last_state
    inner join seen on seen.ent_num = last_state.ent_num
    inner join states on states.state_hash = last_state.state_hash
    cross join latest_observation

)

select * from final
