-- One row per SDN entry and list version with its full remarks, programs, addresses, countries and
-- aliases (a refresh loads one list version, a backfill many: every join is within one version).
-- A table, not a view: several models and tests read it, and a backfill holds millions of
-- entry-versions.
{{ config(materialized='table') }}

with entries as (

    select * from {{ ref('stg_ofac__sdn_entries') }}

),

comments as (

    select * from {{ ref('stg_ofac__comments') }}

),

addresses as (

    select
        list_version,
        ent_num,
        {{ agg_list("concat_ws(', ', street_address, city_region_postcode, country)", 'address_num') }} as addresses,
        {{ agg_distinct_list('country') }} as countries
    from {{ ref('stg_ofac__addresses') }}
    group by list_version, ent_num

),

aliases as (

    select
        list_version,
        ent_num,
        {{ agg_list('alias_name', 'alias_num') }} as aliases
    from {{ ref('stg_ofac__aliases') }}
    group by list_version, ent_num

),

assembled as (

    select
        -- ids
        entries.ent_num,

        -- attributes
        entries.name,
        entries.entity_type,
        -- the entry's own packed field, split row by row (as stg_ofac__sdn_programs explodes it)
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

        -- provenance
        entries.list_version,
        entries.observed_at,
        entries.source_mode,
        entries.is_sample

    from entries
    left join comments on comments.list_version = entries.list_version and comments.ent_num = entries.ent_num
    left join addresses on addresses.list_version = entries.list_version and addresses.ent_num = entries.ent_num
    left join aliases on aliases.list_version = entries.list_version and aliases.ent_num = entries.ent_num

)

select * from assembled
