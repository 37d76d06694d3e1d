{#- No date or timestamp after today (a future date means a parsing or typing error). -#}
{% test not_in_future(model, column_name) %}
select {{ column_name }}
from {{ model }}
where cast({{ column_name }} as date) > current_date
{% endtest %}
