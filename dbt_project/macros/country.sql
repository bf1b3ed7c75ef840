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


{% macro country_indicator_values(province_values, indicators) %}
    {#- The country's indicator values from its provinces' rows (`province_values`, rows of
        int_indicator_values_rolled_up), like for like as every unit's: the provinces'
        numerators and denominators, and their compared parts, summed, then divided
        (`indicators`: stg_reference__indicators). One home for fct_indicator_values' country
        rows and the country's judged targets (int_plan_targets_judged). -#}
    select
        country_sums.cycle,
        country_sums.hierarchy,
        country_sums.unit_level,
        country_sums.unit_code,
        country_sums.district_code,
        country_sums.province_code,
        country_sums.indicator_code,
        country_sums.numerator,
        country_sums.denominator,
        {{ indicator_value('indicators.aggregation', 'country_sums.numerator', 'country_sums.denominator', 'indicators.factor') }} as value,
        {{ dbt.cast('country_sums.communes_included', dbt.type_int()) }} as communes_included,
        {{ dbt.cast('country_sums.communes_in_force', dbt.type_int()) }} as communes_in_force,
        {{ dbt.cast('country_sums.communes_compared', dbt.type_int()) }} as communes_compared,
        {{ indicator_value('indicators.aggregation', 'country_sums.compared_numerator', 'country_sums.compared_denominator', 'indicators.factor') }} as compared_value,
        {{ indicator_value('indicators.aggregation', 'country_sums.previous_numerator', 'country_sums.previous_denominator', 'indicators.factor') }} as compared_previous_value

    from (
        {{ roll_up_levels(
            province_values,
            keys=['indicator_code'],
            aggregates={
                'numerator': dbt.cast('sum(numerator)', dbt.type_bigint()),
                'denominator': dbt.cast('sum(denominator)', dbt.type_bigint()),
                'communes_included': 'sum(communes_included)',
                'communes_in_force': 'sum(communes_in_force)',
                'communes_compared': 'sum(communes_compared)',
                'compared_numerator': dbt.cast('sum(compared_numerator)', dbt.type_bigint()),
                'compared_denominator': dbt.cast('sum(compared_denominator)', dbt.type_bigint()),
                'previous_numerator': dbt.cast('sum(previous_numerator)', dbt.type_bigint()),
                'previous_denominator': dbt.cast('sum(previous_denominator)', dbt.type_bigint()),
            },
            levels=['country'],
        ) | indent(8) }}
    ) as country_sums
    inner join {{ indicators }} as indicators
        on country_sums.indicator_code = indicators.indicator_code
{% endmacro %}
