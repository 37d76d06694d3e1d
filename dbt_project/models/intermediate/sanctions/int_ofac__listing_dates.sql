-- One row per (ent_num, list): when OFAC listed the entry on that list (SDN_ADVANCED.XML /
-- CONS_ADVANCED.XML). A designation counts once per list, never once per entry row: where a
-- profile has several entries on one list (or the same entry in both files), the earliest wins.
-- Orphans (entries whose profile is not in their file) are left out.
with entries as (

    select * from {{ ref('stg_ofac__sanctions_entries') }}
    where is_profile_present

),

earliest_per_list as (

    select
        cast(profile_id as integer) as ent_num,
        list_name,
        entry_id,
        listing_date,
        listing_date_precision,
        program_codes,
        legal_bases,
        source_file,
        source_url,
        is_sample
    from entries
    qualify row_number() over (
        partition by profile_id, list_name
        -- earliest date; on a tie the SDN file, then the lower entry id
        order by listing_date, (source_file = 'SDN_ADVANCED.XML') desc, entry_id
    ) = 1

)

select
    ent_num,
    list_name,
    entry_id,
    cast(listing_date as date) as listing_date,
    listing_date_precision,
    cast(program_codes as varchar[]) as program_codes,
    cast(legal_bases as varchar[]) as legal_bases,
    source_file,
    source_url,
    is_sample
from earliest_per_list
