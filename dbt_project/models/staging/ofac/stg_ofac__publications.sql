-- One row per OFAC publication (/changes/history/{year}), renamed.
with source as (

    select * from {{ source('ofac', 'ofac_publications') }}

),

renamed as (

    select
        -- ids
        publication_id,

        -- when: UTC, and the US Eastern wall time as OFAC gives it
        cast(published_at as timestamptz) as published_at,
        cast(published_at_eastern as timestamp) as published_at_eastern,

        -- provenance
        source_file,
        source_sha256,
        fetched_at

    from source

)

select * from renamed
