-- One row per designation of an SDN entry on an OFAC list (once per list, never once per entry
-- row), dated by its legal effect (advanced XML), with the entry's Iraq / Iran nexus and the
-- themes of its programs (seed ofac_program_classification): the subsets the pressure measures count.
--   oil        a program themed `oil` (IRAN-EO13846, IRAN-EO13902, IFCA, ISA), or a vessel
--   irgc       a program themed `irgc` (IRGC)
--   militia    a program themed `militia` (IRAQ3), or an Iraq-nexus entry under a terrorism
--              program (SDGT, FTO: Kata'ib Hizballah, Asa'ib Ahl al-Haq and their financiers)
--   financial  a program themed `financial` (IFSR)
with listings as (

    select * from {{ ref('int_ofac__listing_dates') }}

),

entities as (

    select ent_num, name, entity_type, iraq_nexus, iran_nexus from {{ ref('dim_sanctioned_entity') }}

),

themes as (

    select
        programs.ent_num,
        bool_or(theme = 'oil') as has_oil_program,
        bool_or(theme = 'irgc') as has_irgc_program,
        bool_or(theme = 'militia') as has_militia_program,
        bool_or(theme = 'terrorism') as has_terrorism_program,
        bool_or(theme = 'financial') as has_financial_program
    from {{ ref('int_ofac__programs_classified') }} as programs
    -- the programs of the list version loaded last (a backfill loads many)
    inner join {{ ref('int_ofac__entry_versions') }} as entry_versions
        on entry_versions.ent_num = programs.ent_num and entry_versions.entry_key = programs.entry_key
    where entry_versions.list_version = (
        select list_version from {{ ref('int_ofac__entry_versions') }} order by observed_at desc limit 1
    )
    group by programs.ent_num

)

select
    -- ids
    listings.ent_num,
    listings.list_name,
    listings.entry_id,
    entities.name,
    entities.entity_type,

    -- clock 1: legal effect
    listings.listing_date,
    listings.listing_date_precision,
    cast(date_trunc('month', listings.listing_date) as date) as listing_month,

    -- nexus and subsets
    entities.iraq_nexus,
    entities.iran_nexus,
    coalesce(themes.has_oil_program, false) or entities.entity_type = 'vessel' as is_oil,
    coalesce(themes.has_irgc_program, false) as is_irgc,
    coalesce(themes.has_militia_program, false)
        or (entities.iraq_nexus and coalesce(themes.has_terrorism_program, false)) as is_militia,
    coalesce(themes.has_financial_program, false) as is_financial,

    -- provenance
    listings.source_file,
    listings.source_url,
    listings.is_sample
from listings
inner join entities on entities.ent_num = listings.ent_num
left join themes on themes.ent_num = listings.ent_num
