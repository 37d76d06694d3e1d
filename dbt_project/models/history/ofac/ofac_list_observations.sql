-- Every time the warehouse saw a new version of the SDN list (appended, never rebuilt).
-- A load whose SDN.CSV has the same sha256 as the latest observation adds nothing.
{{ config(unique_key='observed_at') }}

with current_list as (

    select
        list_version,
        min(observed_at) as observed_at,
        min(source_file) as source_file,
        min(source_url) as source_url,
        min(source_mode) as source_mode,
        bool_and(is_sample) as is_sample,
        count(*) as entity_count
    from {{ ref('stg_ofac__sdn_entries') }}
    group by list_version

)

select * from current_list
{% if is_incremental() %}
where list_version is distinct from (
    select list_version from {{ this }} order by observed_at desc limit 1
)
{% endif %}
