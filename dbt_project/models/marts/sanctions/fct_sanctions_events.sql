-- The curated timeline of pressure and compliance events, each with a source URL.
with events as (

    select * from {{ ref('sanctions_events') }}

)

select
    event_date,
    date_precision,
    event_type,
    actor,
    {{ split_to_list('country_focus', ';') }} as country_focus,
    description,
    source_url,
    source_note
from events
