-- Actions cutting Iraqi banks off from US dollars: the CBI / US Treasury / New York Fed waves
-- (not OFAC designations) and FinCEN's section 311 action on Al-Huda Bank. One row per action.
with barred as (

    select * from {{ ref('iraqi_banks_barred') }}

),

fincen as (

    select * from {{ ref('fincen_311_actions') }}

),

unioned as (

    select
        institution_name as bank_name,
        institution_type,
        {{ split_to_list('aliases', '|') }} as aliases,
        action_date,
        date_precision,
        action_type,
        authority,
        announced_by,
        wave,
        confidence,
        confidence_note,
        description,
        {{ split_to_list('source_urls', '|') }} as source_urls
    from barred

    union all

    select
        institution_name as bank_name,
        'bank' as institution_type,
        {{ split_to_list('aliases', '|') }} as aliases,
        action_date,
        date_precision,
        action_type,
        authority,
        announced_by,
        cast(null as varchar) as wave,
        'high' as confidence,
        coalesce(fr_citation, '') as confidence_note,
        description,
        {{ split_to_list('source_urls', '|') }} as source_urls
    from fincen

)

select * from unioned
