-- Every rule that gives an entry state a direct Iraq or Iran nexus, one row per (state_hash, country,
-- rule): a state's rules depend on its own attributes only, so each distinct state is matched once
-- (a backfill's 5 million entry-versions hold about 20,000). Rules (countries and place names are the
-- `nexus_countries` var in dbt_project.yml; programs the seed ofac_program_classification):
--   program:<P>            the entry is listed under a program whose country_focus is the country
--   address_country        an ADD.CSV address is in the country (Fly Baghdad's only Iraq link)
--   vessel_flag            a vessel flies the country's flag
--   remarks:nationality / remarks:citizenship / remarks:identity_document / remarks:place_of_birth
--   remarks:mention        the country or its demonym appears elsewhere in the remarks
-- The one rule that depends on the rest of the list version, `linked_to:<ent_num>`, is matched per
-- version in int_ofac__nexus_summarised.
{%- set countries = var('nexus_countries') %}
with entities as (

    -- two entry keys can give one state: match each state once
    select distinct state_hash, programs, vessel_flag, remarks, countries
    from {{ ref('int_ofac__entities_assembled') }}

),

programs as (

    -- every tag classified (an unclassified one stops the build in int_ofac__programs_classified)
    select * from {{ ref('int_ofac__programs_classified') }}

),

direct_rules as (
{% for key, c in countries.items() %}
    {%- set places = c.places | join('|') %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select state_hash, '{{ key }}' as nexus_country, 'program:' || program as rule
    from programs
    where country_focus = '{{ key }}'

    union all
    select state_hash, '{{ key }}' as nexus_country, 'address_country' as rule
    from entities
    where {{ list_has('countries', "'" ~ c.name ~ "'") }}

    union all
    select state_hash, '{{ key }}' as nexus_country, 'vessel_flag' as rule
    from entities
    where vessel_flag = '{{ c.name }}'

    union all
    select state_hash, '{{ key }}' as nexus_country, 'remarks:nationality' as rule
    from entities
    where {{ regex_matches('remarks', "'nationality " ~ c.name ~ "\\b'") }}

    union all
    select state_hash, '{{ key }}' as nexus_country, 'remarks:citizenship' as rule
    from entities
    where {{ regex_matches('remarks', "'citizen " ~ c.name ~ "\\b'") }}

    union all
    select state_hash, '{{ key }}' as nexus_country, 'remarks:identity_document' as rule
    from entities
    where {{ regex_matches('remarks', "'\\(" ~ c.name ~ "\\)'") }}

    union all
    select state_hash, '{{ key }}' as nexus_country, 'remarks:place_of_birth' as rule
    from entities
    where {{ regex_matches('remarks', "'POB [^;]*\\b(" ~ c.name ~ "|" ~ places ~ ")\\b'") }}

    union all
    select state_hash, '{{ key }}' as nexus_country, 'remarks:mention' as rule
    from entities
    where {{ regex_matches('remarks', "'\\b(" ~ c.name ~ "|" ~ c.demonym ~ ")\\b'") }}
{% endfor %}
),

every_rule as (

    select distinct state_hash, nexus_country, rule from direct_rules

)

select state_hash, nexus_country, rule from every_rule
