{#- The attributes whose change makes an SDN entry "modified" between two list versions. -#}
{% macro ofac_state_columns() -%}
    {{ return(['ent_num', 'name', 'entity_type', 'programs', 'title', 'call_sign', 'vessel_type',
               'vessel_tonnage', 'vessel_gross_registered_tonnage', 'vessel_flag', 'vessel_owner',
               'remarks', 'addresses', 'aliases']) }}
{%- endmacro %}
