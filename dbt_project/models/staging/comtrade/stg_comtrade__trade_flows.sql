-- One row per Comtrade reporter, partner, flow, commodity and period (totals over partner2,
-- customs procedure and transport mode), renamed and typed.
with source as (

    select * from {{ source('comtrade', 'comtrade_mirror_trade') }}

),

renamed as (

    select
        -- key
        freq_code as frequency,
        period,
        reporter_code,
        reporter_iso3,
        reporter_desc as reporter_name,
        partner_code,
        partner_iso3,
        partner_desc as partner_name,
        flow_code,
        cmd_code as hs_code,
        cmd_desc as hs_description,
        classification_code,

        -- dates: 202501 -> 2025-01-01, 2024 -> 2024-01-01
        case
            when freq_code = 'M'
                then cast(substr(period, 1, 4) || '-' || substr(period, 5, 2) || '-01' as date)
            else cast(substr(period, 1, 4) || '-01-01' as date)
        end as period_start,

        -- measures
        cast(primary_value as double) as value_usd,
        cast(cif_value as double) as cif_value_usd,
        cast(fob_value as double) as fob_value_usd,
        cast(qty as double) as quantity,
        qty_unit_code as quantity_unit_code,
        qty_unit_abbr as quantity_unit,
        cast(net_wgt as double) as net_weight_kg,

        -- flags as published
        is_qty_estimated as is_quantity_estimated,
        is_net_wgt_estimated as is_net_weight_estimated,
        legacy_estimation_flag,
        is_reported,
        is_aggregate,

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
