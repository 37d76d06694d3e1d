-- Every rule that gives an entry an Iraq or Iran nexus, one row per (list version, entry, country, rule).
-- Rules (countries and place names are the `nexus_countries` var in dbt_project.yml; programs the seed
-- ofac_program_classification):
--   program:<P>            the entry is listed under a program whose country_focus is the country
--   address_country        an ADD.CSV address is in the country (Fly Baghdad's only Iraq link)
--   vessel_flag            a vessel flies the country's flag
--   remarks:nationality / remarks:citizenship / remarks:identity_document / remarks:place_of_birth
--   remarks:mention        the country or its demonym appears elsewhere in the remarks
--   linked_to:<ent_num>    one hop of "Linked To:" to an entry with a direct nexus to the country
{%- set countries = var('nexus_countries') %}
with entities as (

    select * from {{ ref('int_ofac__entities_assembled') }}

),

programs as (

    -- every tag classified (an unclassified one stops the build in int_ofac__programs_classified)
    select * from {{ ref('int_ofac__programs_classified') }}

),

addresses as (

    select * from {{ ref('stg_ofac__addresses') }}

),

links as (

    select * from {{ ref('int_ofac__links_resolved') }}

),

direct_rules as (
{% for key, c in countries.items() %}
    {%- set places = c.places | join('|') %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select list_version, ent_num, '{{ key }}' as nexus_country, 'program:' || program as rule
    from programs
    where country_focus = '{{ key }}'

    union all
    select distinct list_version, ent_num, '{{ key }}' as nexus_country, 'address_country' as rule
    from addresses
    where country = '{{ c.name }}'

    union all
    select list_version, ent_num, '{{ key }}' as nexus_country, 'vessel_flag' as rule
    from entities
    where vessel_flag = '{{ c.name }}'

    union all
    select list_version, ent_num, '{{ key }}' as nexus_country, 'remarks:nationality' as rule
    from entities
    where {{ regex_matches('remarks', "'nationality " ~ c.name ~ "\\b'") }}

    union all
    select list_version, ent_num, '{{ key }}' as nexus_country, 'remarks:citizenship' as rule
    from entities
    where {{ regex_matches('remarks', "'citizen " ~ c.name ~ "\\b'") }}

    union all
    select list_version, ent_num, '{{ key }}' as nexus_country, 'remarks:identity_document' as rule
    from entities
    where {{ regex_matches('remarks', "'\\(" ~ c.name ~ "\\)'") }}

    union all
    select list_version, ent_num, '{{ key }}' as nexus_country, 'remarks:place_of_birth' as rule
    from entities
    where {{ regex_matches('remarks', "'POB [^;]*\\b(" ~ c.name ~ "|" ~ places ~ ")\\b'") }}

    union all
    select list_version, ent_num, '{{ key }}' as nexus_country, 'remarks:mention' as rule
    from entities
    where {{ regex_matches('remarks', "'\\b(" ~ c.name ~ "|" ~ c.demonym ~ ")\\b'") }}
{% endfor %}
),

direct_nexus as (

    select distinct list_version, ent_num, nexus_country from direct_rules

),

linked_rules as (

    -- one hop only: from the entry to a target whose nexus is direct, never a propagated one
    select distinct
        links.list_version,
        links.ent_num,
        direct_nexus.nexus_country,
        'linked_to:' || cast(links.linked_ent_num as varchar) as rule
    from links
    inner join direct_nexus
        on direct_nexus.list_version = links.list_version and direct_nexus.ent_num = links.linked_ent_num
    where links.ent_num <> links.linked_ent_num

)

select list_version, ent_num, nexus_country, rule from direct_rules
union all
select list_version, ent_num, nexus_country, rule from linked_rules
