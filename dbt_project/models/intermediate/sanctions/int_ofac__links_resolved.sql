-- "Linked To: NAME" edges in remarks, resolved to the ent_num of the entry with that name.
with entities as (

    select * from {{ ref('int_ofac__entities_assembled') }}

),

mentions as (

    select * from {{ explode_regex_captures('entities', 'list_version, ent_num', 'remarks', "'Linked To: ([^;]+)'", 'linked_name_raw') }}

),

cleaned as (

    -- the last remark ends with a full stop that is not part of the name
    select distinct
        list_version,
        ent_num,
        trim(case when right(trim(linked_name_raw), 1) = '.' then left(trim(linked_name_raw), length(trim(linked_name_raw)) - 1)
                  else trim(linked_name_raw) end) as linked_name
    from mentions

),

targets as (

    select
        list_version,
        ent_num as linked_ent_num,
        case when right(name, 1) = '.' then left(name, length(name) - 1) else name end as match_name
    from entities

)

select
    cleaned.list_version,
    cleaned.ent_num,
    cleaned.linked_name,
    targets.linked_ent_num
from cleaned
left join targets on targets.list_version = cleaned.list_version and targets.match_name = cleaned.linked_name
