-- One row per alias of an SDN entry (aka, fka, nka), renamed.
with source as (

    select * from {{ source('ofac', 'ofac_aliases') }}

),

renamed as (

    select
        -- ids
        ent_num,
        alt_num as alias_num,

        -- alias
        lower(alt_type) as alias_type,
        alt_name as alias_name,
        alt_remarks as alias_remarks,

        -- provenance
        list_version,
        source_sha256,
        fetched_at

    from source

)

select * from renamed
