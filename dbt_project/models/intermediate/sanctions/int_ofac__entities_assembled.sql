-- One row per distinct entry key (int_ofac__entry_versions): the entry's full remarks, programs,
-- addresses, countries and aliases, assembled from the first version it was seen in, and
-- `state_hash`, the fingerprint of those attributes (ofac_state_columns). A refresh assembles the
-- ~18,000 entries of its one version; a backfill of 300 versions about 20,000 keys, not 5 million
-- entry-versions. Two keys can give one state (an alias's number changed, nothing else):
-- ofac_entity_states keeps each state once.
{{ config(materialized='table') }}

with first_seen as (

    select
        ent_num,
        entry_key,
        arg_min(list_version, observed_at) as list_version,
        min(observed_at) as first_seen_at
    from {{ ref('int_ofac__entry_versions') }}
    group by ent_num, entry_key

),

entries as (

    select entries.*, first_seen.entry_key, first_seen.first_seen_at
    from {{ ref('stg_ofac__sdn_entries') }} as entries
    inner join first_seen on first_seen.list_version = entries.list_version and first_seen.ent_num = entries.ent_num

),

-- the rows of the versions picked in first_seen, as semi-joins (EXISTS): DuckDB aggregates after
-- them. As inner joins it pushed the list aggregates below the join, over every version's rows
-- (7 s instead of 1 s for a backfill of 300 versions).
comments as (

    select *
    from {{ ref('stg_ofac__comments') }} as comments
    where exists (select 1 from first_seen where first_seen.list_version = comments.list_version and first_seen.ent_num = comments.ent_num)

),

addresses as (

    select
        list_version,
        ent_num,
        {{ agg_list("concat_ws(', ', street_address, city_region_postcode, country)", 'address_num') }} as addresses,
        {{ agg_distinct_list('country') }} as countries
    from {{ ref('stg_ofac__addresses') }} as addresses
    where exists (select 1 from first_seen where first_seen.list_version = addresses.list_version and first_seen.ent_num = addresses.ent_num)
    group by list_version, ent_num

),

aliases as (

    select
        list_version,
        ent_num,
        {{ agg_list('alias_name', 'alias_num') }} as aliases
    from {{ ref('stg_ofac__aliases') }} as aliases
    where exists (select 1 from first_seen where first_seen.list_version = aliases.list_version and first_seen.ent_num = aliases.ent_num)
    group by list_version, ent_num

),

assembled as (

    select
        -- ids
        entries.ent_num,
        entries.entry_key,

        -- attributes
        entries.name,
        entries.entity_type,
        -- the entry's own packed field `IRAN] [SDGT] [IRGC`, split into its distinct programs
        coalesce({{ packed_list('entries.programs_packed', '] [') }}, {{ empty_string_list() }}) as programs,
        entries.title,
        entries.call_sign,
        entries.vessel_type,
        entries.vessel_tonnage,
        entries.vessel_gross_registered_tonnage,
        entries.vessel_flag,
        entries.vessel_owner,
        -- SDN_COMMENTS.CSV continues the cut remarks mid-word, with no separator
        entries.remarks || coalesce(comments.remarks_extended, '') as remarks,
        comments.ent_num is not null as remarks_extended,
        coalesce(addresses.addresses, {{ empty_string_list() }}) as addresses,
        coalesce(addresses.countries, {{ empty_string_list() }}) as countries,
        coalesce(aliases.aliases, {{ empty_string_list() }}) as aliases,

        -- provenance: the first version that held this key
        entries.list_version as first_list_version,
        entries.first_seen_at

    from entries
    left join comments on comments.list_version = entries.list_version and comments.ent_num = entries.ent_num
    left join addresses on addresses.list_version = entries.list_version and addresses.ent_num = entries.ent_num
    left join aliases on aliases.list_version = entries.list_version and aliases.ent_num = entries.ent_num

)

select
    {{ fingerprint(ofac_state_columns()) }} as state_hash,
    *
from assembled
