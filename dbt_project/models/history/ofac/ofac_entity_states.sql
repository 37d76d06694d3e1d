-- Every distinct state an SDN entry has been seen in, keyed by a fingerprint of its attributes.
{{ config(unique_key='state_hash') }}

with entities as (

    select * from {{ ref('int_ofac__entities_assembled') }}

),

fingerprinted as (

    select
        {{ fingerprint(ofac_state_columns()) }} as state_hash,
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
        observed_at as first_seen_at
    from entities
    -- a backfill loads many versions at once: a state is kept as first seen
    qualify row_number() over (partition by state_hash order by observed_at) = 1

)

select * from fingerprinted
{% if is_incremental() %}
where state_hash not in (select state_hash from {{ this }})
{% endif %}
