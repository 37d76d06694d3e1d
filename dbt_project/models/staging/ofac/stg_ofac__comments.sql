-- Remarks past OFAC's 1,000-character cut (SDN_COMMENTS.CSV): the text continues Remarks directly.
with source as (

    select * from {{ source('ofac', 'ofac_comments') }}

),

renamed as (

    select
        ent_num,
        remarks_extended,
        list_version,
        source_sha256,
        fetched_at
    from source

)

select * from renamed
