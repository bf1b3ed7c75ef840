{#- Incremental strategy `replace_all`: every row of the model replaced in place, in one
    transaction (delete, then insert what the model computed). The default of the intermediate
    and marts layers instead of `table`, whose rebuild swaps a new table in and drops the old
    one with CASCADE: on PostgreSQL that drops the views over it (marts.fct_quality_issues, an
    analyst's own views) and needs an exclusive lock that an analyst's open query holds up.
    Here every relation keeps its identity, readers see the old rows until the commit, and a
    run killed midway leaves the table as it was (issue 11). -#}
{% macro get_incremental_replace_all_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{% endmacro %}
