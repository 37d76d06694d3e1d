{#-
  Everything DuckDB-specific sits here behind adapter.dispatch, so the project can move to
  Postgres, Trino or Spark by adding `<adapter>__` implementations of these macros.
-#}

{# Ordered list aggregate: duckdb list(x order by y), postgres array_agg(x order by y). #}
{% macro agg_list(expression, order_by) -%}
    {{ return(adapter.dispatch('agg_list')(expression, order_by)) }}
{%- endmacro %}
{% macro default__agg_list(expression, order_by) -%}
    array_agg({{ expression }} order by {{ order_by }})
{%- endmacro %}
{#- DuckDB: a plain list of (key, value) pairs, sorted afterwards. An ordered aggregate
    (list(x order by y)) buffers every group's input apart and cannot spill: over a backfill's
    five million entry-versions it ran out of a 4 GB memory limit; this form is a third faster
    and gives the same lists (ties in the key, never seen here, ordered by the value). -#}
{% macro duckdb__agg_list(expression, order_by) -%}
    list_transform(list_sort(list({'k': {{ order_by }}, 'v': {{ expression }}})), lambda pair: pair.v)
{%- endmacro %}

{# Distinct, sorted list aggregate that drops nulls (DuckDB: an empty list where all are null). #}
{% macro agg_distinct_list(expression) -%}
    {{ return(adapter.dispatch('agg_distinct_list')(expression)) }}
{%- endmacro %}
{% macro default__agg_distinct_list(expression) -%}
    array_agg(distinct {{ expression }} order by {{ expression }}) filter (where {{ expression }} is not null)
{%- endmacro %}
{% macro duckdb__agg_distinct_list(expression) -%}
    list_sort(list_distinct(list({{ expression }})))
{%- endmacro %}

{# An empty list of strings. #}
{% macro empty_string_list() -%}
    {{ return(adapter.dispatch('empty_string_list')()) }}
{%- endmacro %}
{% macro default__empty_string_list() -%}
    cast(array[] as varchar[])
{%- endmacro %}
{% macro duckdb__empty_string_list() -%}
    cast([] as varchar[])
{%- endmacro %}

{# A packed field such as `IRAN] [SDGT] [IRGC` as a sorted list of its distinct non-empty parts,
   row by row. #}
{% macro packed_list(column, separator) -%}
    {{ return(adapter.dispatch('packed_list')(column, separator)) }}
{%- endmacro %}
{% macro default__packed_list(column, separator) -%}
    (select array_agg(distinct part order by part)
     from (select trim(both '[] ' from piece) as part from unnest(string_to_array({{ column }}, '{{ separator }}')) as piece) as parts
     where part <> '')
{%- endmacro %}
{% macro duckdb__packed_list(column, separator) -%}
    list_sort(list_distinct(list_filter(
        list_transform(string_split({{ column }}, '{{ separator }}'), lambda piece: trim(piece, '[] ')),
        lambda part: part <> ''
    )))
{%- endmacro %}

{# The sorted, distinct union of two lists. #}
{% macro sorted_union(left, right) -%}
    {{ return(adapter.dispatch('sorted_union')(left, right)) }}
{%- endmacro %}
{% macro default__sorted_union(left, right) -%}
    (select array_agg(distinct x order by x) from unnest({{ left }} || {{ right }}) as x)
{%- endmacro %}
{% macro duckdb__sorted_union(left, right) -%}
    list_sort(list_distinct(list_concat({{ left }}, {{ right }})))
{%- endmacro %}

{# Does the list `list` hold `value`? #}
{% macro list_has(list, value) -%}
    {{ return(adapter.dispatch('list_has')(list, value)) }}
{%- endmacro %}
{% macro default__list_has(list, value) -%}
    ({{ value }} = any({{ list }}))
{%- endmacro %}
{% macro duckdb__list_has(list, value) -%}
    list_contains({{ list }}, {{ value }})
{%- endmacro %}

{# Does `expression` match the regular expression `pattern` (a SQL string literal)? #}
{% macro regex_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_matches')(expression, pattern)) }}
{%- endmacro %}
{% macro default__regex_matches(expression, pattern) -%}
    ({{ expression }} ~ {{ pattern }})
{%- endmacro %}
{% macro duckdb__regex_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, {{ pattern }})
{%- endmacro %}

{# One row per capture of `pattern` in `column`: use in a FROM. #}
{% macro explode_regex_captures(relation, key, column, pattern, alias) -%}
    {{ return(adapter.dispatch('explode_regex_captures')(relation, key, column, pattern, alias)) }}
{%- endmacro %}
{% macro default__explode_regex_captures(relation, key, column, pattern, alias) -%}
    (select {{ key }}, (regexp_matches({{ column }}, {{ pattern }}, 'g'))[1] as {{ alias }} from {{ relation }})
{%- endmacro %}
{% macro duckdb__explode_regex_captures(relation, key, column, pattern, alias) -%}
    (select {{ key }}, unnest(regexp_extract_all({{ column }}, {{ pattern }}, 1)) as {{ alias }} from {{ relation }})
{%- endmacro %}

{# Split a ` | `-separated cell into a list of trimmed strings (curated seeds). #}
{% macro split_to_list(column, separator) -%}
    {{ return(adapter.dispatch('split_to_list')(column, separator)) }}
{%- endmacro %}
{% macro default__split_to_list(column, separator) -%}
    coalesce(string_to_array(nullif(trim({{ column }}), ''), '{{ separator }}'), {{ empty_string_list() }})
{%- endmacro %}
{% macro duckdb__split_to_list(column, separator) -%}
    coalesce(list_transform(string_split(nullif(trim({{ column }}), ''), '{{ separator }}'), lambda x: trim(x)), {{ empty_string_list() }})
{%- endmacro %}

{# Names of the columns whose values differ between two aliases, as a list. #}
{% macro changed_columns(columns, left, right) -%}
    {{ return(adapter.dispatch('changed_columns')(columns, left, right)) }}
{%- endmacro %}
{% macro default__changed_columns(columns, left, right) -%}
    array_remove(array[
    {%- for c in columns %}
        case when {{ left }}.{{ c }} is distinct from {{ right }}.{{ c }} then '{{ c }}' end{{ "," if not loop.last }}
    {%- endfor %}
    ], null)
{%- endmacro %}
{% macro duckdb__changed_columns(columns, left, right) -%}
    list_filter([
    {%- for c in columns %}
        case when {{ left }}.{{ c }} is distinct from {{ right }}.{{ c }} then '{{ c }}' end{{ "," if not loop.last }}
    {%- endfor %}
    ], lambda x: x is not null)
{%- endmacro %}

{# A 64-bit key of several columns, to group rows by (not stored as a fingerprint: see `fingerprint`). #}
{% macro row_key(columns) -%}
    {{ return(adapter.dispatch('row_key')(columns)) }}
{%- endmacro %}
{% macro default__row_key(columns) -%}
    {{ fingerprint(columns) }}
{%- endmacro %}
{% macro duckdb__row_key(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{# An aggregate key of a group's rows that does not depend on their order (a set of rows). #}
{% macro set_key(columns) -%}
    {{ return(adapter.dispatch('set_key')(columns)) }}
{%- endmacro %}
{% macro default__set_key(columns) -%}
    md5(string_agg({{ fingerprint(columns) }}, '' order by {{ fingerprint(columns) }}))
{%- endmacro %}
{#- DuckDB: the sum of the rows' hashes (a HUGEINT, so it never overflows), no sort, no strings. -#}
{% macro duckdb__set_key(columns) -%}
    sum(hash({{ columns | join(', ') }}))
{%- endmacro %}

{# A stable fingerprint of several columns (lists rendered as text). #}
{% macro fingerprint(columns) -%}
    md5(concat_ws('||'
    {%- for c in columns %}, coalesce(cast({{ c }} as varchar), '<null>'){% endfor %}))
{%- endmacro %}
