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

publications as (

    select * from {{ ref('ofac_list_publications') }}

),

listing_dates as (

    -- the legal-effect clock: the earliest listing on any list (advanced XML, EntryEvent "Created")
    select
        ent_num,
        min(listing_date) as listing_date,
        arg_min(listing_date_precision, listing_date) as listing_date_precision,
        arg_min(list_name, listing_date) as first_list_name
    from {{ ref('int_ofac__listing_dates') }}
    group by ent_num

),

first_version as (

    select members.ent_num, members.list_version as first_list_version
    from members
    inner join (
        select every_observation.ent_num, min(every_observation.observed_at) as observed_at
        from members as every_observation
        group by every_observation.ent_num
    ) as first_seen
        on first_seen.ent_num = members.ent_num
        and first_seen.observed_at = members.observed_at

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

        -- three clocks, never substituted for one another:
        -- legal effect (advanced XML), publication of the first list version that held the entry
        -- (OFAC publication history; NULL when unknown), and our first observation
        listing_dates.listing_date,
        listing_dates.listing_date_precision,
        listing_dates.first_list_name,
        publications.published_at as first_list_published_at,
        seen.first_observed_at,
        seen.last_observed_at,
        seen.last_observed_at = latest_observation.observed_at as is_listed,
        last_state.list_version as last_list_version

    from last_state
    inner join seen on seen.ent_num = last_state.ent_num
    inner join states on states.state_hash = last_state.state_hash
    cross join latest_observation
    left join listing_dates on listing_dates.ent_num = last_state.ent_num
    left join first_version on first_version.ent_num = last_state.ent_num
    left join publications on publications.list_version = first_version.first_list_version

)

select * from final
