{#- Incremental strategy `replace_cycles`: delete the requested cycles (every cycle without the
    `cycles` var) and insert what the model computed for them. Deleting by the requested list,
    not by what the new rows hold, also clears a cycle whose rebuild yields no rows. A model
    whose rows depend on every earlier comparable cycle (over-time history) sets
    `meta: {rebuild_later_cycles: true}`: the later cycles of the same kind, in its hierarchy
    and the next (a history crosses a reform), are replaced too, and the model must compute them (`cycle_filter(with_later=true)`). A model
    with `meta: {rebuild_by_province: true}` and a `province_code` column deletes only the
    requested provinces (the `provinces` var) of those cycles, and must compute only them
    (`cycle_filter(province_column=...)` on the inputs that drive its rows). Its `country` rows
    (`unit_level`) belong to no province: they are replaced whole for those cycles, so such a
    model computes them from every province of the cycles, not only the requested ones. -#}
{% macro get_incremental_replace_cycles_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set has_levels = 'unit_level' in (arg_dict['dest_columns'] | map(attribute='name') | map('lower') | list) %}
    delete from {{ target }} where {{ cycle_filter('cycle', with_later=config.meta_get('rebuild_later_cycles', false), province_column=none if has_levels else 'province_code') }}
    {%- if has_levels %} and ({{ province_filter('province_code') }} or unit_level = 'country'){% endif %};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{% endmacro %}
