-- One row per entry and list version: the entry's state, its Iraq and Iran nexus flags and every rule
-- that matched, as `<country>/<rule>`: the direct rules of its state (int_ofac__nexus_rules_matched)
-- and, matched here per version, one hop of "Linked To:" to an entry of the same version whose own
-- state has a direct nexus (never a propagated one): `linked_to:<ent_num>`.
with entry_versions as (

    select * from {{ ref('int_ofac__entry_versions') }}

),

states as (

    select ent_num, entry_key, state_hash from {{ ref('int_ofac__entities_assembled') }}

),

direct_rules as (

    select * from {{ ref('int_ofac__nexus_rules_matched') }}

),

links as (

    select * from {{ ref('int_ofac__links_resolved') }}

),

direct_per_state as (

    select
        state_hash,
        max(case when nexus_country = 'iraq' then 1 else 0 end) = 1 as iraq_nexus,
        max(case when nexus_country = 'iran' then 1 else 0 end) = 1 as iran_nexus,
        {{ agg_list("nexus_country || '/' || rule", "nexus_country || '/' || rule") }} as nexus_reasons
    from direct_rules
    group by state_hash

),

linked_rules as (

    select distinct
        links.list_version,
        links.ent_num,
        direct_rules.nexus_country,
        'linked_to:' || cast(links.linked_ent_num as varchar) as rule
    from links
    inner join (select distinct state_hash, nexus_country from direct_rules) as direct_rules
        on direct_rules.state_hash = links.linked_state_hash
    where links.ent_num <> links.linked_ent_num

),

linked_per_entry as (

    select
        list_version,
        ent_num,
        max(case when nexus_country = 'iraq' then 1 else 0 end) = 1 as iraq_nexus,
        max(case when nexus_country = 'iran' then 1 else 0 end) = 1 as iran_nexus,
        {{ agg_list("nexus_country || '/' || rule", "nexus_country || '/' || rule") }} as nexus_reasons
    from linked_rules
    group by list_version, ent_num

)

select
    entry_versions.list_version,
    entry_versions.ent_num,
    entry_versions.observed_at,
    states.state_hash,
    coalesce(direct_per_state.iraq_nexus, false) or coalesce(linked_per_entry.iraq_nexus, false) as iraq_nexus,
    coalesce(direct_per_state.iran_nexus, false) or coalesce(linked_per_entry.iran_nexus, false) as iran_nexus,
    case
        when linked_per_entry.ent_num is null then coalesce(direct_per_state.nexus_reasons, {{ empty_string_list() }})
        else {{ sorted_union('coalesce(direct_per_state.nexus_reasons, ' ~ empty_string_list() ~ ')', 'linked_per_entry.nexus_reasons') }}
    end as nexus_reasons
from entry_versions
inner join states on states.ent_num = entry_versions.ent_num and states.entry_key = entry_versions.entry_key
left join direct_per_state on direct_per_state.state_hash = states.state_hash
left join linked_per_entry
    on linked_per_entry.list_version = entry_versions.list_version and linked_per_entry.ent_num = entry_versions.ent_num
