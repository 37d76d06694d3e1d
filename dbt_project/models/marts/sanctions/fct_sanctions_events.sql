-- One row per dated event of US pressure on Iraq over Iran, or of Iraq's response, from every
-- source: designations (legal-effect date from the advanced XML) and delistings (list version) with
-- an Iraq or Iran nexus, Federal Register documents in scope, FinCEN 311 steps, bank-ban waves,
-- the electricity waiver, presidential actions, pipeline halt and restart, warnings and
-- designation announcements. Each event type sits on one side only (`pressure`: US actions;
-- `compliance`: Iraq's), so the two monthly indices cannot correlate by construction.
with designations as (

    select * from {{ ref('int_sanctions__designations_dated') }}
    where iraq_nexus or iran_nexus

),

changes as (

    select * from {{ ref('fct_designation_changes') }}

),

list_versions as (

    select list_version, source_url from {{ ref('fct_ofac_list_versions') }}

),

documents as (

    select * from {{ ref('int_federal_register__documents') }} where is_in_scope

),

fincen as (

    select * from {{ ref('fincen_311_actions') }}

),

banks as (

    select * from {{ ref('iraqi_banks_barred') }}

),

curated as (

    -- bank bans and FinCEN steps come from their own registers (above), never twice
    select * from {{ ref('sanctions_events') }}
    where event_type not in ('bank_restriction', 'fincen_action')

),

designation_events as (

    select
        designations.listing_date as event_date,
        designations.listing_date_precision as date_precision,
        'legal_effect' as date_basis,
        'designation' as event_type,
        'OFAC' as actor,
        designations.iraq_nexus,
        designations.iran_nexus,
        designations.name || ' (' || designations.list_name || ')' as title,
        'ofac:' || cast(designations.ent_num as varchar) || ':' || designations.list_name as source_doc_id,
        -- OFAC's public page of the entry; the file the date came from is in raw.ofac_sanctions_entries
        'https://sanctionssearch.ofac.treas.gov/Details.aspx?id=' || cast(designations.ent_num as varchar) as source_url,
        'ofac_advanced_xml' as source,
        designations.is_sample
    from designations

),

delisting_events as (

    select
        cast(coalesce(changes.list_published_at, changes.observed_at) as date) as event_date,
        'day' as date_precision,
        case when changes.list_published_at is not null then 'list_published' else 'observed' end as date_basis,
        'delisting' as event_type,
        'OFAC' as actor,
        changes.iraq_nexus,
        changes.iran_nexus,
        changes.name || ' (removed from the SDN list)' as title,
        'ofac:' || cast(changes.ent_num as varchar) || ':removed:' || changes.list_version as source_doc_id,
        list_versions.source_url,
        'ofac_list_versions' as source,
        changes.is_sample
    from changes
    left join list_versions on list_versions.list_version = changes.list_version
    where changes.change_type = 'removed'
      and (changes.iraq_nexus or changes.iran_nexus)

),

document_events as (

    select
        documents.publication_date as event_date,
        'day' as date_precision,
        'fr_published' as date_basis,
        case when documents.is_presidential then 'presidential_action' else 'federal_register_document' end as event_type,
        case
            when documents.is_presidential then 'President'
            when documents.is_fincen then 'FinCEN'
            when documents.is_ofac then 'OFAC'
            when documents.is_state then 'State Department'
            else 'Treasury'
        end as actor,
        documents.mentions_iraq as iraq_nexus,
        documents.mentions_iran as iran_nexus,
        documents.document_type || ': ' || documents.title as title,
        'fr:' || documents.document_number as source_doc_id,
        documents.html_url as source_url,
        'federal_register' as source,
        documents.is_sample
    from documents

),

fincen_events as (

    select
        fincen.action_date as event_date,
        fincen.date_precision,
        'curated' as date_basis,
        'fincen_311_step' as event_type,
        'FinCEN' as actor,
        true as iraq_nexus,
        true as iran_nexus,  -- FinCEN's finding: Al-Huda Bank served Iran's IRGC-QF and aligned militias
        replace(fincen.action_type, 'fincen_311_', '') || ': ' || fincen.institution_name as title,
        'fincen:' || fincen.action_type || coalesce(':fr:' || nullif(fincen.fr_document_number, ''), '') as source_doc_id,
        trim(split_part(fincen.source_urls, ' | ', 1)) as source_url,
        'fincen_311_actions' as source,
        false as is_sample
    from fincen

),

bank_ban_events as (

    select
        min(banks.action_date) as event_date,
        min(banks.date_precision) as date_precision,
        'curated' as date_basis,
        'bank_ban' as event_type,
        'Central Bank of Iraq' as actor,
        true as iraq_nexus,
        true as iran_nexus,  -- the bans cut dollar flows reaching Iran through Iraqi banks
        cast(count(*) as varchar) || ' Iraqi institutions barred from US-dollar transactions ('
            || cast(count(case when banks.institution_type = 'bank' then 1 end) as varchar) || ' banks), wave '
            || banks.wave as title,
        'banks_barred:' || banks.wave as source_doc_id,
        min(trim(split_part(banks.source_urls, ' | ', 1))) as source_url,
        'iraqi_banks_barred' as source,
        false as is_sample
    from banks
    where banks.action_type = 'usd_access_barred'
    group by banks.wave

),

curated_events as (

    select
        curated.event_date,
        curated.date_precision,
        'curated' as date_basis,
        case when curated.event_type in ('ofac_designation', 'state_designation') then 'designation_announcement'
             else curated.event_type end as event_type,
        curated.actor,
        curated.country_focus like '%IRQ%' as iraq_nexus,
        curated.country_focus like '%IRN%' as iran_nexus,
        curated.description as title,
        'event:' || cast(curated.event_date as varchar) || ':' || curated.event_type as source_doc_id,
        curated.source_url,
        'sanctions_events' as source,
        false as is_sample
    from curated

),

unioned as (

    select * from designation_events
    union all select * from delisting_events
    union all select * from document_events
    union all select * from fincen_events
    union all select * from bank_ban_events
    union all select * from curated_events

)

select
    -- when and what
    event_date,
    date_precision,
    date_basis,
    event_type,
    actor,
    case when event_type in ('bank_ban', 'pipeline_halt', 'pipeline_restart', 'iraqi_enforcement')
         then 'compliance' else 'pressure' end as side,

    -- nexus
    coalesce(iraq_nexus, false) as iraq_nexus,
    coalesce(iran_nexus, false) as iran_nexus,

    -- what the source says
    title,
    source_doc_id,
    source_url,
    source,
    is_sample
from unioned
