-- One row per month: Iraq's imports from and exports to Iran as the best available figure, the
-- energy part (HS 2711 gas, 2716 electricity) and Iran's share of Iraq's imports.
--
-- Candidates for each Iraqi flow are Iraq's own figure (IMF IMTS, Comtrade) and its mirror, Iran's
-- figure for the reverse flow. Best first: Iraq's own reported figure, then Iraq's figure as
-- estimated by the IMF, then Iran's mirror figure; IMF before Comtrade on a tie. Mirrors compare
-- FOB exports with CIF imports, so they run a few percent low.
with flows as (

    select * from {{ ref('fct_bilateral_trade_monthly') }}
    where period_grain = 'month'

),

candidates as (

    select
        period,
        hs_code,
        case
            when (reporter_iso3 = 'IRQ' and flow = 'import') or (reporter_iso3 = 'IRN' and flow = 'export') then 'import'
            else 'export'
        end as iraq_flow,
        value_usd,
        source,
        reporter_iso3,
        reporter_iso3 = 'IRN' as is_mirror,
        is_estimate
    from flows
    where value_usd is not null
        and ((reporter_iso3 = 'IRQ' and partner_iso3 = 'IRN') or (reporter_iso3 = 'IRN' and partner_iso3 = 'IRQ'))
        and hs_code in ('TOTAL', '2711', '2716')

),

ranked as (

    select
        candidates.*,
        row_number() over (
            partition by period, hs_code, iraq_flow
            order by
                case when is_mirror then 1 else 0 end,
                case when is_estimate then 1 else 0 end,
                case when source = 'imf_imts' then 0 else 1 end
        ) as preference
    from candidates

),

best as (

    select * from ranked where preference = 1

),

world_imports as (

    select period, value_usd
    from flows
    where source = 'imf_imts'
        and reporter_iso3 = 'IRQ'
        and partner_iso3 = 'WLD'
        and flow = 'import'
        and hs_code = 'TOTAL'

),

months as (

    select distinct period from best

),

energy as (

    select
        period,
        max(case when hs_code = '2711' then value_usd end) as gas_usd,
        max(case when hs_code = '2716' then value_usd end) as electricity_usd,
        max(source) as energy_source,
        max(case when is_mirror then 1 else 0 end) = 1 as energy_is_mirror
    from best
    where iraq_flow = 'import' and hs_code in ('2711', '2716')
    group by period

),

assembled as (

    select
        -- dates
        cast(months.period as date) as month,

        -- Iraq's imports from Iran
        cast(imports.value_usd as double) as iraq_imports_from_iran_usd,
        cast(imports.source as varchar) as iraq_imports_source,
        cast(imports.reporter_iso3 as varchar) as iraq_imports_reported_by,
        cast(imports.is_mirror as boolean) as iraq_imports_is_mirror,
        cast(imports.is_estimate as boolean) as iraq_imports_is_estimate,

        -- Iraq's exports to Iran
        cast(exports.value_usd as double) as iraq_exports_to_iran_usd,
        cast(exports.source as varchar) as iraq_exports_source,
        cast(exports.reporter_iso3 as varchar) as iraq_exports_reported_by,
        cast(exports.is_mirror as boolean) as iraq_exports_is_mirror,
        cast(exports.is_estimate as boolean) as iraq_exports_is_estimate,

        -- the energy part of Iraq's imports from Iran
        cast(energy.gas_usd as double) as iraq_gas_imports_from_iran_usd,
        cast(energy.electricity_usd as double) as iraq_electricity_imports_from_iran_usd,
        cast(
            case when energy.gas_usd is not null or energy.electricity_usd is not null
                then coalesce(energy.gas_usd, 0) + coalesce(energy.electricity_usd, 0)
            end as double
        ) as iraq_energy_imports_from_iran_usd,
        cast(energy.energy_source as varchar) as energy_source,
        cast(energy.energy_is_mirror as boolean) as energy_is_mirror,

        -- Iran's share of Iraq's imports (IMF's Iraq-with-World total as the denominator)
        cast(world_imports.value_usd as double) as iraq_imports_from_world_usd,
        cast(
            case when world_imports.value_usd > 0 then imports.value_usd / world_imports.value_usd end as double
        ) as iran_share_of_iraq_imports

    from months
    left join best as imports
        on imports.period = months.period and imports.hs_code = 'TOTAL' and imports.iraq_flow = 'import'
    left join best as exports
        on exports.period = months.period and exports.hs_code = 'TOTAL' and exports.iraq_flow = 'export'
    left join energy
        on energy.period = months.period
    left join world_imports
        on world_imports.period = months.period

)

select * from assembled
