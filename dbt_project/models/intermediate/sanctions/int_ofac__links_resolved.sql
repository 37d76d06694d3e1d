-- "Linked To: NAME" edges in remarks, resolved in each list version to the ent_num of the entry of
-- that version with that name, and that entry's state. One row per (list version, entry, name):
-- `linked_ent_num` is NULL where no entry of the version has the name.
with entry_versions as (

    select * from {{ ref('int_ofac__entry_versions') }}

),

states as (

    select ent_num, entry_key, state_hash, name, remarks from {{ ref('int_ofac__entities_assembled') }}

),

mentions as (

    -- a state's mentions are its own: found once per state, not once per version
    select * from {{ explode_regex_captures('states', 'ent_num, entry_key', 'remarks', "'Linked To: ([^;]+)'", 'linked_name_raw') }}

),

cleaned as (

    -- the last remark ends with a full stop that is not part of the name
    select distinct
        ent_num,
        entry_key,
        trim(case when right(trim(linked_name_raw), 1) = '.' then left(trim(linked_name_raw), length(trim(linked_name_raw)) - 1)
                  else trim(linked_name_raw) end) as linked_name
    from mentions

),

named as (

    select
        ent_num,
        entry_key,
        state_hash,
        case when right(name, 1) = '.' then left(name, length(name) - 1) else name end as match_name
    from states

),

sources as (

    select entry_versions.list_version, cleaned.ent_num, cleaned.linked_name
    from cleaned
    inner join entry_versions on entry_versions.ent_num = cleaned.ent_num and entry_versions.entry_key = cleaned.entry_key

),

targets as (

    -- only the entries of each version whose name is linked to at all
    select entry_versions.list_version, named.ent_num as linked_ent_num, named.state_hash as linked_state_hash, named.match_name
    from named
    inner join entry_versions on entry_versions.ent_num = named.ent_num and entry_versions.entry_key = named.entry_key
    where named.match_name in (select linked_name from cleaned)

)

select
    sources.list_version,
    sources.ent_num,
    sources.linked_name,
    targets.linked_ent_num,
    targets.linked_state_hash
from sources
left join targets on targets.list_version = sources.list_version and targets.match_name = sources.linked_name
