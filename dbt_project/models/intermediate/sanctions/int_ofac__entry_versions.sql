-- One row per SDN entry and list version, with `entry_key`: a key of everything the entry's state is
-- assembled from in that version (its SDN.CSV row, its ADD.CSV and ALT.CSV rows as sets, its
-- SDN_COMMENTS.CSV continuation). The list changes little from one version to the next, so a
-- backfill of 300 versions holds about 5 million entry-versions but only about 20,000 distinct keys:
-- int_ofac__entities_assembled assembles, fingerprints and classifies each key once, not each
-- entry-version. The key is DuckDB's 64-bit hash: two different inputs of the same entry would have
-- to collide to be taken for one (about 1 in 10^15 for an entry with a few hundred states).
-- A table: the assembly and the nexus of every version read it.
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
        {{ set_key(['address_num', 'street_address', 'city_region_postcode', 'country']) }} as addresses_key
    from {{ ref('stg_ofac__addresses') }}
    group by list_version, ent_num

),

aliases as (

    select
        list_version,
        ent_num,
        {{ set_key(['alias_num', 'alias_name']) }} as aliases_key
    from {{ ref('stg_ofac__aliases') }}
    group by list_version, ent_num

)

select
    -- keys
    entries.list_version,
    entries.ent_num,
    {{ row_key(['entries.name', 'entries.entity_type', 'entries.programs_packed', 'entries.title', 'entries.call_sign',
                'entries.vessel_type', 'entries.vessel_tonnage', 'entries.vessel_gross_registered_tonnage',
                'entries.vessel_flag', 'entries.vessel_owner', 'entries.remarks', 'comments.remarks_extended',
                'comments.ent_num is null', 'addresses.addresses_key', 'aliases.aliases_key']) }} as entry_key,

    -- provenance
    entries.observed_at,
    entries.source_mode,
    entries.is_sample

from entries
left join comments on comments.list_version = entries.list_version and comments.ent_num = entries.ent_num
left join addresses on addresses.list_version = entries.list_version and addresses.ent_num = entries.ent_num
left join aliases on aliases.list_version = entries.list_version and aliases.ent_num = entries.ent_num
