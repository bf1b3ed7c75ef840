{% macro roll_up_levels(relation, keys, aggregates, levels=['commune', 'district', 'province']) %}
    {#- Commune rows rolled up to their commune, district and province in one union.

        relation   : a CTE or relation with cycle, hierarchy, unit_code (a commune),
                     district_code (null after the reform) and province_code
        keys       : further grouping columns (e.g. ['element_code'])
        aggregates : {output column: aggregate expression over the commune rows}

        District rows only come from communes that have a district (pre-reform cycles). -#}
    {%- set level_codes = {'commune': 'unit_code', 'district': 'district_code', 'province': 'province_code'} -%}
    {%- for level in levels %}
    select
        cycle,
        hierarchy,
        '{{ level }}' as unit_level,
        {{ level_codes[level] }} as unit_code,
        {% if level == 'province' -%}
        {{ dbt.cast('null', dbt.type_string()) }} as district_code,
        {%- else -%}
        district_code,
        {%- endif %}
        province_code,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        {%- for name, expression in aggregates.items() %}
        {{ expression }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- if level == 'district' %}
    where district_code is not null
    {%- endif %}
    group by
        cycle,
        hierarchy,
        {{ level_codes[level] }},
        {%- if level != 'province' %}
        district_code,
        {%- endif %}
        province_code
        {%- for key in keys %},
        {{ key }}
        {%- endfor %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{% endmacro %}
