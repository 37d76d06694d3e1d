-- One row per (list version, entry, program tag) with the tag's country focus and theme from the seed
-- ofac_program_classification. A tag the seed does not classify stops the build here, naming the
-- tag: a new OFAC program must never pass into the nexus rules or the pressure measures unnoticed.
{{ config(materialized='table') }}

with programs as (

    select list_version, ent_num, program, 'SDN.CSV' as seen_in from {{ ref('stg_ofac__sdn_programs') }}

),

advanced_programs as (

    -- program codes of the advanced XML (SDN and consolidated lists) must be classified too
    select cast(null as varchar) as list_version, profile_id as ent_num, unnest(program_codes) as program, source_file as seen_in
    from {{ ref('stg_ofac__sanctions_entries') }}

),

classification as (

    select * from {{ ref('ofac_program_classification') }}

),

unclassified as (

    select
        program,
        count(distinct ent_num) as entries,
        min(ent_num) as example_ent_num,
        min(seen_in) as seen_in
    from (select * from programs union all select * from advanced_programs) as every_program
    where program not in (select program from classification)
    group by program

),

stop_on_unclassified as (

    -- error() aborts the build with the message; the select returns no rows otherwise
    select error(
        '[ofac] program tag ''' || program || ''' (' || entries || ' entries in ' || seen_in || ', e.g. ent_num '
        || example_ent_num || ') is not in dbt_project/seeds/curated/ofac_program_classification.csv: '
        || 'classify it (country_focus, theme, legal_basis) before this list can publish'
    ) as failure
    from unclassified

)

select
    programs.list_version,
    programs.ent_num,
    programs.program,
    classification.country_focus,
    classification.theme
from programs
inner join classification on classification.program = programs.program
where (select count(failure) from stop_on_unclassified) = 0  -- count() evaluates error() on every row
