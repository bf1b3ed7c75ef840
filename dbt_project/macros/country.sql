{% macro country_unit() %}
    {#- The country, the unit above the provinces in every hierarchy: its rows in the marts
        (`unit_level = 'country'`) carry this code and these names (labels as data, read by
        the reports like any unit's). -#}
    {{ return({'code': 'VN', 'name_vi': 'Toàn quốc', 'name_ascii': 'Toan quoc'}) }}
{% endmacro %}


{% macro country_units(admin_units, columns=['hierarchy', 'unit_level', 'unit_code', 'name_vi']) %}
    {#- The country's row in each hierarchy of `admin_units` (a relation of units with a
        `hierarchy` column), with `columns` among hierarchy, unit_level, unit_code, name_vi,
        name_ascii; any other column null. To union under the units' rows. -#}
    {%- set country = country_unit() -%}
    {%- set values = {
        'hierarchy': 'hierarchy',
        'unit_level': dbt.cast("'country'", dbt.type_string()),
        'unit_code': dbt.cast("'" ~ country.code ~ "'", dbt.type_string()),
        'name_vi': dbt.cast("'" ~ country.name_vi ~ "'", dbt.type_string()),
        'name_ascii': dbt.cast("'" ~ country.name_ascii ~ "'", dbt.type_string()),
    } -%}
    select distinct
        {%- for column in columns %}
        {{ values.get(column, 'null') }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ admin_units }}
{% endmacro %}
