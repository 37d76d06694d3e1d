-- Every time the warehouse saw a new version of the SDN list (appended, never rebuilt). A refresh
-- loads one version; a backfill many, each with its own fetch time, in publication order. A version
-- identical to the one seen just before it (the latest recorded, or the one before it in the same
-- load) adds nothing; a list that returns to an earlier version is a new observation.
{{ config(unique_key='observed_at') }}

with loaded as (

    select
        list_version,
        observed_at,
        min(source_file) as source_file,
        min(source_url) as source_url,
        min(source_mode) as source_mode,
        bool_and(is_sample) as is_sample,
        count(*) as entity_count
    from {{ ref('stg_ofac__sdn_entries') }}
    group by list_version, observed_at

),

sequenced as (

    select
        loaded.*,
        lag(list_version) over (order by observed_at) as seen_before
    from loaded

)

select
    list_version,
    observed_at,
    source_file,
    source_url,
    source_mode,
    is_sample,
    entity_count
from sequenced
where list_version is distinct from coalesce(
    seen_before
    {% if is_incremental() %}
    , (select list_version from {{ this }} order by observed_at desc limit 1)
    {% endif %}
)
