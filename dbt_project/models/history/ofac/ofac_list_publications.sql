-- The OFAC publication (id and date) that identifies each observed list version, where OFAC's
-- publication history was landed with the list (live mode, or a directory holding
-- changes_history_YYYY.json). Appended only, like the other history tables.
{{ config(unique_key='list_version') }}

with current_publication as (

    select list_version, publication_id, published_at
    from {{ ref('int_ofac__list_version_publication') }}
    where publication_id is not null

)

select * from current_publication
{% if is_incremental() %}
where list_version not in (select list_version from {{ this }})
{% endif %}
