-- One row per entry and list version: Iraq and Iran nexus flags and every rule that matched, as `<country>/<rule>`.
-- A table, not a view: several models and tests read it, and a backfill holds millions of
-- entry-versions.
{{ config(materialized='table') }}

with entities as (

    select list_version, ent_num from {{ ref('int_ofac__entities_assembled') }}

),

rules as (

    select * from {{ ref('int_ofac__nexus_rules_matched') }}

),

per_entity as (

    select
        list_version,
        ent_num,
        max(case when nexus_country = 'iraq' then 1 else 0 end) = 1 as iraq_nexus,
        max(case when nexus_country = 'iran' then 1 else 0 end) = 1 as iran_nexus,
        {{ agg_list("nexus_country || '/' || rule", "nexus_country || '/' || rule") }} as nexus_reasons
    from (select distinct list_version, ent_num, nexus_country, rule from rules) as distinct_rules
    group by list_version, ent_num

)

select
    entities.list_version,
    entities.ent_num,
    coalesce(per_entity.iraq_nexus, false) as iraq_nexus,
    coalesce(per_entity.iran_nexus, false) as iran_nexus,
    coalesce(per_entity.nexus_reasons, {{ empty_string_list() }}) as nexus_reasons
from entities
left join per_entity on per_entity.list_version = entities.list_version and per_entity.ent_num = entities.ent_num
