-- The OFAC publication (date, and id where known) of each observed list version: named by its
-- source (a backfilled archive version), or matched in OFAC's publication history where it was
-- landed with the list (live mode, or a directory holding changes_history_YYYY.json). Appended
-- only, like the other history tables.
{{ config(unique_key='list_version') }}

with current_publication as (

    select list_version, publication_id, published_at
    from {{ ref('int_ofac__list_version_publication') }}
    where published_at is not null

)

select * from current_publication
{% if is_incremental() %}
where list_version not in (select list_version from {{ this }})
{% endif %}
