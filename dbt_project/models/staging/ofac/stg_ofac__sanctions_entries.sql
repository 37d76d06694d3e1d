-- One row per sanctions entry of the advanced XML exports (SDN_ADVANCED.XML, CONS_ADVANCED.XML), renamed.
with source as (

    select * from {{ source('ofac', 'ofac_sanctions_entries') }}

),

renamed as (

    select
        -- ids: profile_id is SDN.CSV's ent_num
        entry_id,
        profile_id,
        list_id,
        list_name,

        -- listing date: the earliest "Created" event; listing_date is the period's first day
        cast(listing_date as date) as listing_date,
        listing_year,
        listing_month,
        listing_day,
        listing_date_precision,

        -- why and under which programs
        cast(legal_bases as varchar[]) as legal_bases,
        cast(program_codes as varchar[]) as program_codes,
        event_count,

        -- flags: false for an orphan (its profile is not in the same file)
        profile_present as is_profile_present,

        -- provenance
        source_file,
        source_url,
        source_sha256,
        fetched_at,
        source_mode,
        is_sample

    from source

)

select * from renamed
