-- One row per SDN entry, renamed and typed; no joins (full remarks are assembled downstream).
with source as (

    select * from {{ source('ofac', 'ofac_sdn') }}

),

renamed as (

    select
        -- ids
        ent_num,

        -- who or what is listed
        sdn_name as name,
        coalesce(lower(sdn_type), 'entity') as entity_type,  -- OFAC leaves entities as the null marker
        program as programs_packed,
        title,

        -- vessels and aircraft
        call_sign,
        vess_type as vessel_type,
        tonnage as vessel_tonnage,
        grt as vessel_gross_registered_tonnage,
        vess_flag as vessel_flag,
        vess_owner as vessel_owner,

        -- free text, cut by OFAC at 1,000 characters
        remarks,
        length(remarks) >= 1000 as remarks_may_be_truncated,

        -- the list version (sha256 over the sha256 of each of its CSV files), its publication where
        -- the source says it (a backfilled archive version), and when we fetched its SDN.CSV
        list_version,
        list_published_at,
        list_publication_id,
        fetched_at as observed_at,
        source_file,
        source_url,
        source_mode,
        is_sample

    from source

)

select * from renamed
