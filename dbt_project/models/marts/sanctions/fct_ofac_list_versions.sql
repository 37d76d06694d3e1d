-- One row per observed SDN list version: what it held and how it differed from the one before.
-- The first observation is the baseline: its entries are not counted as "added".
with observations as (

    select * from {{ ref('ofac_list_observations') }}

),

sequenced as (

    select
        observations.*,
        row_number() over (order by observed_at) as version_seq,
        lag(list_version) over (order by observed_at) as previous_list_version
    from observations

),

members as (

    select observed_at, count(*) as entities, count(case when iraq_nexus then 1 end) as iraq_nexus_entities,
           count(case when iran_nexus then 1 end) as iran_nexus_entities
    from {{ ref('ofac_list_members') }}
    group by observed_at

),

changes as (

    select
        observed_at,
        count(case when change_type = 'added' then 1 end) as added,
        count(case when change_type = 'removed' then 1 end) as removed,
        count(case when change_type = 'modified' then 1 end) as modified
    from {{ ref('fct_designation_changes') }}
    group by observed_at

)

select
    sequenced.list_version,
    sequenced.observed_at,
    sequenced.version_seq,
    sequenced.previous_list_version,
    sequenced.version_seq = 1 as is_baseline,
    sequenced.entity_count,
    coalesce(members.iraq_nexus_entities, 0) as iraq_nexus_entities,
    coalesce(members.iran_nexus_entities, 0) as iran_nexus_entities,
    coalesce(changes.added, 0) as added,
    coalesce(changes.removed, 0) as removed,
    coalesce(changes.modified, 0) as modified,
    sequenced.source_file,
    sequenced.source_url,
    sequenced.source_mode,
    sequenced.is_sample
from sequenced
left join members on members.observed_at = sequenced.observed_at
left join changes on changes.observed_at = sequenced.observed_at
