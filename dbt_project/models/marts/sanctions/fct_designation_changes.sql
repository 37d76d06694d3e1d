-- One row per entry per change between two successive observed SDN list versions.
with observations as (

    select
        observed_at,
        list_version,
        lag(observed_at) over (order by observed_at) as previous_observed_at,
        lag(list_version) over (order by observed_at) as previous_list_version,
        is_sample
    from {{ ref('ofac_list_observations') }}

),

pairs as (

    -- the first observation is the baseline and has nothing to compare with
    select * from observations where previous_observed_at is not null

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

    select ent_num, min(listing_date) as listing_date
    from {{ ref('int_ofac__listing_dates') }}
    group by ent_num

),

current_side as (

    select pairs.observed_at, members.ent_num, members.state_hash, members.iraq_nexus, members.iran_nexus
    from pairs
    inner join members on members.observed_at = pairs.observed_at

),

previous_side as (

    select pairs.observed_at, members.ent_num, members.state_hash, members.iraq_nexus, members.iran_nexus
    from pairs
    inner join members on members.observed_at = pairs.previous_observed_at

),

compared as (

    select
        coalesce(current_side.observed_at, previous_side.observed_at) as observed_at,
        coalesce(current_side.ent_num, previous_side.ent_num) as ent_num,
        case
            when previous_side.ent_num is null then 'added'
            when current_side.ent_num is null then 'removed'
            when current_side.state_hash <> previous_side.state_hash then 'modified'
        end as change_type,
        current_side.state_hash as current_state_hash,
        previous_side.state_hash as previous_state_hash,
        coalesce(current_side.iraq_nexus, previous_side.iraq_nexus) as iraq_nexus,
        coalesce(current_side.iran_nexus, previous_side.iran_nexus) as iran_nexus
    from current_side
    full outer join previous_side
        on previous_side.observed_at = current_side.observed_at
        and previous_side.ent_num = current_side.ent_num

),

final as (

    select
        -- keys
        compared.observed_at,
        pairs.list_version,
        pairs.previous_list_version,
        compared.ent_num,

        -- the change
        compared.change_type,
        case when compared.change_type = 'modified'
             then {{ changed_columns(ofac_state_columns(), 'current_state', 'previous_state') }}
        end as changed_fields,
        coalesce(current_state.name, previous_state.name) as name,
        coalesce(current_state.entity_type, previous_state.entity_type) as entity_type,
        coalesce(current_state.programs, previous_state.programs) as programs,

        -- nexus (as of the version that holds the entry)
        compared.iraq_nexus,
        compared.iran_nexus,

        -- three clocks, never substituted for one another: the entry's legal-effect listing date
        -- (advanced XML), the publication of the list version the change was seen in (NULL when
        -- unknown), and when we observed it (observed_at, above)
        listing_dates.listing_date,
        publications.published_at as list_published_at,

        -- a change seen between two bundled-sample versions is not a real one
        pairs.is_sample

    from compared
    inner join pairs on pairs.observed_at = compared.observed_at
    left join states as current_state on current_state.state_hash = compared.current_state_hash
    left join states as previous_state on previous_state.state_hash = compared.previous_state_hash
    left join listing_dates on listing_dates.ent_num = compared.ent_num
    left join publications on publications.list_version = pairs.list_version
    where compared.change_type is not null

)

select * from final
