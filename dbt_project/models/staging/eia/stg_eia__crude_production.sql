-- EIA crude production for Iraq and Iran, kb/d, renamed and typed; no joins.
with source as (

    select * from {{ source('eia', 'eia_crude_production') }}

),

renamed as (

    select
        -- keys
        country_region_id as country_iso3,
        period as month,
        'production' as measure,

        -- measures: NULL where EIA published a marker (`--`, `NA`, ...) instead of a number
        value_kbd,
        value_marker,
        data_flag_id,
        data_flag_description,

        -- as published
        period_text,
        product_id,
        activity_id,
        unit,
        value_text,

        -- provenance
        source_file,
        source_url,
        fetched_at,
        source_sha256,
        source_mode,
        is_sample

    from source

)

select * from renamed
