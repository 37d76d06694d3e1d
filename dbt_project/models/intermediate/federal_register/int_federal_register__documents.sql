-- One row per Federal Register document: the raw page rows deduplicated (the row of the latest
-- fetch wins, then the latest page file), the search terms of every page that held it, and the
-- rules that put a document in scope: one of the four agencies or a presidential document, Iraq or
-- Iran, published since 2018. The parser keeps everything; the filtering happens here.
with pages as (

    select * from {{ ref('stg_federal_register__documents') }}

),

terms as (

    select
        document_number,
        list_sort(list_distinct(list(search_term) filter (where search_term is not null))) as matched_terms,
        bool_or(coalesce(regexp_matches(search_term, '(?i)\biraq'), false)) as searched_iraq,
        bool_or(coalesce(regexp_matches(search_term, '(?i)\biran'), false)) as searched_iran
    from pages
    group by document_number

),

latest as (

    select *
    from pages
    qualify row_number() over (
        partition by document_number order by fetched_at desc nulls last, source_file desc
    ) = 1

),

flagged as (

    select
        -- ids
        latest.document_number,
        latest.citation,

        -- kind
        latest.document_type,
        latest.subtype,

        -- dates
        latest.publication_date,
        latest.signing_date,
        latest.effective_on,

        -- agencies, text and links
        latest.agency_slugs,
        latest.title,
        latest.abstract,
        latest.html_url,
        latest.pdf_url,
        latest.raw_text_url,
        latest.executive_order_number,
        coalesce(terms.matched_terms, []::varchar[]) as matched_terms,

        -- flags
        terms.searched_iraq
            or coalesce(regexp_matches(concat_ws(' ', latest.title, latest.abstract), '(?i)\biraq(i|is)?\b'), false)
            as mentions_iraq,
        terms.searched_iran
            or coalesce(regexp_matches(concat_ws(' ', latest.title, latest.abstract), '(?i)\biran(ian|ians)?\b'), false)
            as mentions_iran,
        coalesce(list_contains(latest.agency_slugs, 'foreign-assets-control-office'), false) as is_ofac,
        coalesce(list_contains(latest.agency_slugs, 'financial-crimes-enforcement-network'), false) as is_fincen,
        coalesce(list_contains(latest.agency_slugs, 'state-department'), false) as is_state,
        coalesce(list_contains(latest.agency_slugs, 'treasury-department'), false) as is_treasury,
        coalesce(latest.document_type = 'Presidential Document', false) as is_presidential,
        coalesce(
            latest.document_type = 'Presidential Document'
            and regexp_matches(
                latest.title, '(?i)continuation of the national emergency with respect to the stabilization of iraq'
            ),
            false
        ) as is_iraq_emergency_continuation,

        -- provenance of the row kept
        latest.source_url,
        latest.source_sha256,
        latest.is_sample

    from latest
    inner join terms using (document_number)

)

select
    document_number,
    citation,
    document_type,
    subtype,
    publication_date,
    signing_date,
    effective_on,
    agency_slugs,
    title,
    abstract,
    html_url,
    pdf_url,
    raw_text_url,
    executive_order_number,
    matched_terms,
    mentions_iraq,
    mentions_iran,
    is_ofac,
    is_fincen,
    is_state,
    is_treasury,
    is_presidential,
    is_iraq_emergency_continuation,
    (is_ofac or is_fincen or is_state or is_treasury or is_presidential)
        and (mentions_iraq or mentions_iran)
        and coalesce(publication_date >= date '2018-01-01', false) as is_in_scope,
    source_url,
    source_sha256,
    is_sample
from flagged
