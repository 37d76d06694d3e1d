{#- The model has at least `min_rows` rows: a silently empty table is a failure. -#}
{% test not_empty(model, min_rows=1) %}
select count(*) as row_count
from {{ model }}
having count(*) < {{ min_rows }}
{% endtest %}
