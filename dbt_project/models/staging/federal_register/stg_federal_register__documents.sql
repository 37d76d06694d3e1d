-- One row per Federal Register document per landed answer page, renamed and typed; not filtered
-- and not deduplicated (int_federal_register__documents does both).
with source as (

    select * from {{ source('federal_register', 'federal_register_documents') }}

),

renamed as (

    select
        -- ids
        document_number,
        citation,

        -- kind
        document_type,
        subtype,

        -- dates
        cast(publication_date as date) as publication_date,
        cast(signing_date as date) as signing_date,
        cast(effective_on as date) as effective_on,

        -- agencies
        cast(agency_slugs as varchar[]) as agency_slugs,
        cast(agency_names as varchar[]) as agency_names,

        -- text and links
        title,
        abstract,
        html_url,
        pdf_url,
        raw_text_url,
        executive_order_number,

        -- the search that returned this page
        search_term,

        -- provenance
        source_file,
        source_url,
        fetched_at,
        source_sha256,
        source_mode,
        is_sample

    from source

)

select * from renamed
