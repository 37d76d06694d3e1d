-- One row per SDN list version with its OFAC publication: the one its source names (a backfilled
-- archive version: its folder's date or publication id), else the latest publication in OFAC's
-- publication history at or before the time its SDN.CSV was fetched. NULL where neither is known.
with list_versions as (

    select
        list_version,
        min(observed_at) as observed_at,
        max(list_published_at) as named_published_at,
        max(list_publication_id) as named_publication_id
    from {{ ref('stg_ofac__sdn_entries') }}
    group by list_version

),

publications as (

    select * from {{ ref('stg_ofac__publications') }}

),

matched as (

    select
        list_versions.list_version,
        publications.publication_id,
        publications.published_at
    from list_versions
    left join publications
        on publications.published_at <= list_versions.observed_at
    where list_versions.named_published_at is null and list_versions.named_publication_id is null
    qualify row_number() over (
        partition by list_versions.list_version
        order by publications.published_at desc nulls last, publications.publication_id desc
    ) = 1

),

named as (

    -- a publication id without a date takes its date from the publication history, where landed
    select
        list_versions.list_version,
        list_versions.named_publication_id as publication_id,
        coalesce(list_versions.named_published_at, publications.published_at) as published_at
    from list_versions
    left join publications on publications.publication_id = list_versions.named_publication_id
    where list_versions.named_published_at is not null or list_versions.named_publication_id is not null

)

select list_version, publication_id, published_at from matched
union all
select list_version, publication_id, published_at from named
