{% macro roll_up_levels(relation, keys, aggregates, levels=['commune', 'district', 'province']) %}
    {#- Commune rows rolled up to their commune, district and province in one union.

        relation   : a CTE or relation with cycle, hierarchy, unit_code (a commune),
                     district_code (null after the reform) and province_code
        keys       : further grouping columns (e.g. ['element_code'])
        aggregates : {output column: aggregate expression over the commune rows}

        District rows only come from communes that have a district (pre-reform cycles).
        The `country` level sums every row of the relation (communes, or the provinces' sums:
        sums of sums are the same sums); its code and name are `country_unit()`. -#}
    {%- set level_codes = {'commune': 'unit_code', 'district': 'district_code', 'province': 'province_code', 'country': dbt.cast("'" ~ country_unit().code ~ "'", dbt.type_string())} -%}
    {%- for level in levels %}
    select
        cycle,
        hierarchy,
        '{{ level }}' as unit_level,
        {{ level_codes[level] }} as unit_code,
        {% if level in ('province', 'country') -%}
        {{ dbt.cast('null', dbt.type_string()) }} as district_code,
        {%- else -%}
        district_code,
        {%- endif %}
        {% if level == 'country' -%}
        {{ dbt.cast('null', dbt.type_string()) }} as province_code,
        {%- else -%}
        province_code,
        {%- endif %}
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
        hierarchy
        {%- if level != 'country' %},
        {{ level_codes[level] }},
        {%- if level != 'province' %}
        district_code,
        {%- endif %}
        province_code
        {%- endif %}
        {%- for key in keys %},
        {{ key }}
        {%- endfor %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
{% endmacro %}
