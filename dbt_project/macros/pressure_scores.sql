{#- Scores of the monthly pressure and compliance indices (marts/pressure). -#}

{# A fall against the trailing mean, as a score in [0, 1]: clip((mean - value) / mean, 0, 1);
   NULL without a value, or with fewer than `min_months` months behind the mean. #}
{% macro fall_score(value, mean, n, min_months) -%}
    case when {{ value }} is not null and {{ n }} >= {{ min_months }} and {{ mean }} > 0
         then least(greatest(({{ mean }} - {{ value }}) / {{ mean }}, 0.0), 1.0) end
{%- endmacro %}

{# n_components (how many of `scores` have data) and the index: 100 x the mean of the non-NULL
   scores, NULL when fewer than two have data. #}
{% macro index_columns(scores, index_name) -%}
    {%- set n -%}({% for s in scores %}(case when {{ s }} is not null then 1 else 0 end){{ ' + ' if not loop.last }}{% endfor %}){%- endset -%}
    {%- set total -%}({% for s in scores %}coalesce({{ s }}, 0){{ ' + ' if not loop.last }}{% endfor %}){%- endset -%}
    cast({{ n }} as integer) as n_components,
    cast(case when {{ n }} >= 2 then 100.0 * {{ total }} / {{ n }} end as double) as {{ index_name }}
{%- endmacro %}

{# A count as a score in [0, 1]: min(x / cap, 1); NULL stays NULL (least() alone would skip it and give 1). #}
{% macro capped_score(value, cap) -%}
    case when {{ value }} is not null then least(({{ value }}) / {{ cap }}, 1.0) end
{%- endmacro %}
