-- Every distinct state an SDN entry has been seen in, keyed by a fingerprint of its attributes.
{{ config(unique_key='state_hash') }}

with assembled as (

    select * from {{ ref('int_ofac__entities_assembled') }}

),

states as (

    select
        state_hash,
        ent_num,
        name,
        entity_type,
        programs,
        title,
        call_sign,
        vessel_type,
        vessel_tonnage,
        vessel_gross_registered_tonnage,
        vessel_flag,
        vessel_owner,
        remarks,
        addresses,
        countries,
        aliases,
        first_seen_at
    from assembled
    -- two entry keys can give one state (and a backfill loads many versions): kept as first seen
    qualify row_number() over (partition by state_hash order by first_seen_at) = 1

)

select * from states
{% if is_incremental() %}
where state_hash not in (select state_hash from {{ this }})
{% endif %}
