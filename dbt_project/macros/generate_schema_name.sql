{#- The production targets (`prod`, `prod_postgres`) write the schemas as named (reference,
    staging, intermediate, marts): analysts and Python query `marts.fct_...`. Every other target
    (`dev`, `dev_postgres`) prefixes them with its own schema (`dev_marts`), dbt's usual
    pattern, so a developer's build never writes the production tables. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.name.startswith('prod') -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
