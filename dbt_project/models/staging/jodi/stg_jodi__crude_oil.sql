-- JODI crude production and exports for Iraq and Iran, kb/d, renamed and typed; no joins.
with source as (

    select * from {{ source('jodi', 'jodi_crude_oil') }}

),

renamed as (

    select
        -- keys
        case ref_area when 'IQ' then 'IRQ' when 'IR' then 'IRN' end as country_iso3,
        period as month,
        case flow_breakdown when 'INDPROD' then 'production' when 'TOTEXPSB' then 'exports' end as measure,

        -- measures: NULL where JODI published a marker instead of a number (never zero)
        obs_value as value_kbd,
        obs_marker as value_marker,
        assessment_code,

        -- as published
        ref_area,
        time_period,
        flow_breakdown,
        unit_measure,
        obs_value_text,

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
