-- One row per SDN list version (the sha256 of SDN.CSV) with the OFAC publication it most likely
-- is: the latest publication at or before the time SDN.CSV was fetched. NULL where no
-- publication history was landed (or none is that early).
with list_versions as (

    select
        list_version,
        min(observed_at) as observed_at
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
    qualify row_number() over (
        partition by list_versions.list_version
        order by publications.published_at desc nulls last, publications.publication_id desc
    ) = 1

)

select
    list_version,
    publication_id,
    published_at
from matched
