{#- Every non-null value of the column lies within [min_value, max_value] (oil rates, barrels). -#}
{% test kbd_within_range(model, column_name, min_value=0, max_value=10000) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
