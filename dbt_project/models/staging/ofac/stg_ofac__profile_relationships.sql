-- One row per relationship between two profiles of the advanced XML exports, renamed.
with source as (

    select * from {{ source('ofac', 'ofac_profile_relationships') }}

),

renamed as (

    select
        -- ids: profile ids are SDN.CSV's ent_nums
        relationship_id,
        from_profile_id,
        to_profile_id,

        -- what the relationship is, as OFAC's reference sets name it
        relation_type,
        relation_quality,

        -- provenance
        source_file,
        source_sha256,
        fetched_at

    from source

)

select * from renamed
