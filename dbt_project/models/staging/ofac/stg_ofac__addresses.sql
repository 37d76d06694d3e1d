-- One row per address of an SDN entry, renamed.
with source as (

    select * from {{ source('ofac', 'ofac_addresses') }}

),

renamed as (

    select
        -- ids
        ent_num,
        add_num as address_num,

        -- address parts as published
        address as street_address,
        city_state_province_postal_code as city_region_postcode,
        country,
        add_remarks as address_remarks,

        -- provenance
        list_version,
        source_sha256,
        fetched_at

    from source

)

select * from renamed
