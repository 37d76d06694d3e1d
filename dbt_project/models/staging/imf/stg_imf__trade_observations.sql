-- One row per IMTS series and month, renamed and typed. Codes stay IMF's (G001 = World).
with source as (

    select * from {{ source('imf', 'imf_imts_trade') }}

),

renamed as (

    select
        -- series key
        country as reporter_code,
        counterpart_country as counterpart_code,
        indicator,
        frequency,
        time_period,

        -- dates: 2025-M01 -> 2025-01-01
        cast(substr(time_period, 1, 4) || '-' || substr(time_period, 7, 2) || '-01' as date) as period_month,

        -- measures (OBS_VALUE is whole US dollars; SCALE is display only)
        cast(obs_value as double) as value_usd,
        unit,
        trade_flow,
        valuation,

        -- estimate labels, as published
        derivation_type,
        status as observation_status,
        overlap,

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
