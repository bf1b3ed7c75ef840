{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='append_new_columns', meta={'rebuild_by_province': true}) }}
-- Each cycle's indicator values carried onto the units of the next hierarchy version
-- (int_indicator_values_carried): a pre-reform cycle on today's communes and provinces, like
-- for like, with coverage against the old communes that make up the unit, whether the value
-- includes a divided old commune, and the previous comparable cycle carried the same way. The
-- country is the same unit in both versions: its carried rows are summed from the carried
-- provinces, so they equal its as-reported rows (fct_indicator_values). A cycle's own rows in
-- its own hierarchy never change: these are other rows, under the next hierarchy.
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

carried as (

    -- this run's cycles and the cycles they are compared with, every province (the country)
    select * from {{ ref('int_indicator_values_carried') }}
    where {{ cycle_filter('cycle', with_previous=true) }}

),

country_sums as (

    select
        cycle,
        hierarchy,
        source_hierarchy,
        indicator_code,
        {{ dbt.cast('sum(numerator)', dbt.type_bigint()) }} as numerator,
        {{ dbt.cast('sum(denominator)', dbt.type_bigint()) }} as denominator,
        sum(communes_included) as communes_included,
        sum(communes_in_force) as communes_in_force

    from carried
    where unit_level = 'province'
    group by cycle, hierarchy, source_hierarchy, indicator_code

),

{%- set value_columns = 'cycle, hierarchy, source_hierarchy, unit_level, unit_code, province_code, indicator_code, numerator, denominator, value, communes_included, communes_in_force, includes_divided_commune' %}

carried_values as (

    select {{ value_columns }} from carried
    union all
    select
        country_sums.cycle,
        country_sums.hierarchy,
        country_sums.source_hierarchy,
        {{ dbt.cast("'country'", dbt.type_string()) }} as unit_level,
        {{ dbt.cast("'" ~ country_unit().code ~ "'", dbt.type_string()) }} as unit_code,
        {{ dbt.cast('null', dbt.type_string()) }} as province_code,
        country_sums.indicator_code,
        country_sums.numerator,
        country_sums.denominator,
        {{ indicator_value('indicators.aggregation', 'country_sums.numerator', 'country_sums.denominator', 'indicators.factor') }} as value,
        {{ dbt.cast('country_sums.communes_included', dbt.type_int()) }} as communes_included,
        {{ dbt.cast('country_sums.communes_in_force', dbt.type_int()) }} as communes_in_force,
        false as includes_divided_commune

    from country_sums
    inner join indicators
        on country_sums.indicator_code = indicators.indicator_code

),

current_values as (

    -- the provinces this run rebuilds, and the country
    select * from carried_values
    where {{ cycle_filter('cycle') }}
        and ({{ province_filter('province_code') }} or unit_level = 'country')

),

admin_units as (

    select hierarchy, unit_level, unit_code, name_vi from {{ ref('stg_reference__admin_units') }}
    union all
    {{ country_units(ref('stg_reference__admin_units')) }}

),

final as (

    select
        current_values.cycle,
        current_values.hierarchy,
        current_values.source_hierarchy,
        current_values.unit_level,
        current_values.unit_code,
        admin_units.name_vi as unit_name_vi,
        {{ dbt.cast('null', dbt.type_string()) }} as district_code,
        current_values.province_code,
        current_values.indicator_code,
        indicators.name_vi as indicator_name_vi,
        indicators.name_en as indicator_name_en,
        indicators.value_unit,
        current_values.numerator,
        current_values.denominator,
        current_values.value,
        current_values.communes_included,
        current_values.communes_in_force,
        {{ ratio('current_values.communes_included', 'current_values.communes_in_force', 100) }} as coverage_pct,
        current_values.includes_divided_commune,
        cycles.previous_comparable_cycle,
        previous_values.value as previous_value,
        current_values.value - previous_values.value as value_change

    from current_values
    inner join cycles
        on current_values.cycle = cycles.cycle
    inner join admin_units
        on current_values.hierarchy = admin_units.hierarchy
        and current_values.unit_level = admin_units.unit_level
        and current_values.unit_code = admin_units.unit_code
    inner join indicators
        on current_values.indicator_code = indicators.indicator_code
    left join carried_values as previous_values
        on cycles.previous_comparable_cycle = previous_values.cycle
        and current_values.hierarchy = previous_values.hierarchy
        and current_values.unit_level = previous_values.unit_level
        and current_values.unit_code = previous_values.unit_code
        and current_values.indicator_code = previous_values.indicator_code

)

select * from final
