-- One row per (entry key, program tag) with the tag's country focus and theme from the seed
-- ofac_program_classification: each distinct entry state of int_ofac__entities_assembled, from the
-- version it was first seen in (every version's entries are among them). A tag the seed does not
-- classify stops the build here, naming the tag: a new OFAC program must never pass into the nexus
-- rules or the pressure measures unnoticed.
{{ config(materialized='table') }}

with programs as (

    -- the entry's programs as int_ofac__entities_assembled split them (distinct, sorted)
    select state_hash, ent_num, entry_key, unnest(programs) as program, 'SDN.CSV' as seen_in
    from {{ ref('int_ofac__entities_assembled') }}

),

advanced_programs as (

    -- program codes of the advanced XML (SDN and consolidated lists) must be classified too
    select
        cast(null as varchar) as state_hash,
        profile_id as ent_num,
        cast(null as ubigint) as entry_key,
        unnest(program_codes) as program,
        source_file as seen_in
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
    programs.state_hash,
    programs.ent_num,
    programs.entry_key,
    programs.program,
    classification.country_focus,
    classification.theme
from programs
inner join classification on classification.program = programs.program
where (select count(failure) from stop_on_unclassified) = 0  -- count() evaluates error() on every row
