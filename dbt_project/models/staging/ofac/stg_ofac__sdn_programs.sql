-- One row per (entry, program): OFAC packs several programs in one field as `IRAN] [SDGT] [IRGC`.
with entries as (

    select * from {{ source('ofac', 'ofac_sdn') }}

),

exploded as (

    select * from {{ explode_packed('entries', 'list_version, ent_num', 'program', '] [', 'program') }}

)

select distinct
    list_version,
    ent_num,
    program
from exploded
where program <> ''
