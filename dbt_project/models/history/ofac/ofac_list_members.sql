-- Which entries (in which state, with which nexus) each observed list version held.
-- Appended only for a new observation, so re-running a build never duplicates members.
with observations as (

    select * from {{ ref('ofac_list_observations') }}

),

entities as (

    select
        ent_num,
        list_version,
        observed_at,
        {{ fingerprint(ofac_state_columns()) }} as state_hash
    from {{ ref('int_ofac__entities_assembled') }}

),

nexus as (

    select * from {{ ref('int_ofac__nexus_summarised') }}

),

members as (

    select
        observations.observed_at,
        observations.list_version,
        entities.ent_num,
        entities.state_hash,
        nexus.iraq_nexus,
        nexus.iran_nexus,
        nexus.nexus_reasons
    from entities
    inner join observations
        on observations.observed_at = entities.observed_at
        and observations.list_version = entities.list_version
    inner join nexus on nexus.list_version = entities.list_version and nexus.ent_num = entities.ent_num

)

select * from members
{% if is_incremental() %}
where observed_at not in (select distinct observed_at from {{ this }})
{% endif %}
