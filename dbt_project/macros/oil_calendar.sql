{#- Calendar helpers for monthly oil rates, on dbt's cross-database date macros (portable as is). -#}

{# Number of days in the month that starts on `month` (a date column or expression). #}
{% macro days_in_month(month) -%}
    {{ dbt.datediff(month, dbt.dateadd('month', 1, month), 'day') }}
{%- endmacro %}

{# Last day of the month that starts on `month`, as a date. #}
{% macro month_last_day(month) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month)) }} as date)
{%- endmacro %}
