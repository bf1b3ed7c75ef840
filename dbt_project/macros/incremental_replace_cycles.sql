{#- Incremental strategy `replace_cycles`: delete the requested cycles (every cycle without the
    `cycles` var) and insert what the model computed for them. Deleting by the requested list,
    not by what the new rows hold, also clears a cycle whose rebuild yields no rows. -#}
{% macro get_incremental_replace_cycles_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} where {{ cycle_filter('cycle') }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{% endmacro %}
