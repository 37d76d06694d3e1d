-- IMF IMTS observations in the shared trade shape: ISO3 codes (G001 -> WLD), import/export,
-- HS 'TOTAL', and whether the figure is an IMF estimate.
--
-- is_estimate: DERIVATION_TYPE not among the codes that mean "reported by the country", or a STATUS
-- of 'E'. The default list (['M']) comes from the real api.imf.org answer for the USA (a reporter);
-- the meaning of the other codes is not documented where we could check, so anything else counts
-- as an estimate, the cautious reading. Override with --vars '{imf_reported_derivation_types: [...]}'.
{% set reported = var('imf_reported_derivation_types', ['M']) %}

with observations as (

    select * from {{ ref('stg_imf__trade_observations') }}

),

mapped as (

    select
        -- dates
        period_month as period,
        'month' as period_grain,

        -- who reports what with whom
        case when reporter_code = 'G001' then 'WLD' else reporter_code end as reporter_iso3,
        case when counterpart_code = 'G001' then 'WLD' else counterpart_code end as partner_iso3,
        case indicator when 'MG_CIF_USD' then 'import' when 'XG_FOB_USD' then 'export' end as flow,
        'TOTAL' as hs_code,

        -- measures
        value_usd,
        cast(null as double) as quantity,
        cast(null as varchar) as quantity_unit,

        -- labels
        'imf_imts' as source,
        (
            coalesce(derivation_type, '') not in ({% for code in reported %}'{{ code }}'{{ ", " if not loop.last }}{% endfor %})
            or coalesce(observation_status, '') = 'E'
        ) as is_estimate,

        -- provenance
        source_url,
        fetched_at

    from observations

)

select * from mapped
