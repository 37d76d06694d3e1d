-- Which entries (in which state, with which nexus) each observed list version held.
-- Appended only for a new observation, so re-running a build never duplicates members.
with observations as (

    select * from {{ ref('ofac_list_observations') }}

),

nexus as (

    select * from {{ ref('int_ofac__nexus_summarised') }}

),

members as (

    select
        observations.observed_at,
        observations.list_version,
        nexus.ent_num,
        nexus.state_hash,
        nexus.iraq_nexus,
        nexus.iran_nexus,
        nexus.nexus_reasons
    from nexus
    inner join observations
        on observations.observed_at = nexus.observed_at
        and observations.list_version = nexus.list_version

)

select * from members
{% if is_incremental() %}
where observed_at not in (select distinct observed_at from {{ this }})
{% endif %}
