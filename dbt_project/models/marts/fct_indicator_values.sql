{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='append_new_columns', meta={'rebuild_by_province': true}) }}
-- Indicator values of every unit in force (and in scope) in a cycle, like for like, with their
-- coverage, the target that applies (the unit's plan's, else the national milestone) and its
-- status, and the previous comparable cycle (across a reform: the previous cycle's figures
-- carried onto this hierarchy's units, int_indicator_values_carried); and of the
-- country, summed from every province of the cycle (whichever provinces this run rebuilds:
-- the country rows are replaced whole, see macros/incremental_replace_cycles.sql).
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

province_values as (

    -- every province of this run's cycles and of the cycles they are compared with
    select * from {{ ref('int_indicator_values_rolled_up') }}
    where unit_level = 'province' and {{ cycle_filter('cycle', with_previous=true) }}

),

country_values as (

    -- the same like-for-like value as every other unit's (macros/country.sql)
    {{ country_indicator_values('province_values', 'indicators') }}

),

{%- set value_columns = 'cycle, hierarchy, unit_level, unit_code, district_code, province_code, indicator_code, numerator, denominator, value, communes_included, communes_in_force, communes_compared, compared_value, compared_previous_value' %}

indicator_values as (

    select {{ value_columns }} from {{ ref('int_indicator_values_rolled_up') }}
    where {{ cycle_filter('cycle', province_column='province_code') }}
    union all
    select {{ value_columns }} from country_values
    where {{ cycle_filter('cycle') }}

),

{%- set previous_columns = 'cycle, hierarchy, unit_level, unit_code, indicator_code, value' %}

previous_values as (

    select {{ previous_columns }} from {{ ref('int_indicator_values_rolled_up') }}
    where {{ cycle_filter('cycle', with_previous=true, province_column='province_code') }}
    union all
    select {{ previous_columns }} from country_values
    union all
    -- a previous cycle of the hierarchy before, carried onto this hierarchy's units
    select {{ previous_columns }} from {{ ref('int_indicator_values_carried') }}
    where {{ cycle_filter('cycle', with_previous=true, province_column='province_code') }}

),

targets as (

    select * from {{ ref('int_plan_targets_judged') }}
    where {{ cycle_filter('cycle') }}

),

admin_units as (

    select hierarchy, unit_level, unit_code, name_vi from {{ ref('stg_reference__admin_units') }}
    union all
    {{ country_units(ref('stg_reference__admin_units')) }}

),

final as (

    select
        indicator_values.cycle,
        indicator_values.hierarchy,
        indicator_values.unit_level,
        indicator_values.unit_code,
        admin_units.name_vi as unit_name_vi,
        indicator_values.district_code,
        indicator_values.province_code,
        indicator_values.indicator_code,
        indicators.name_vi as indicator_name_vi,
        indicators.name_en as indicator_name_en,
        indicators.value_unit,
        indicator_values.numerator,
        indicator_values.denominator,
        indicator_values.value,
        indicator_values.communes_included,
        indicator_values.communes_in_force,
        {{ ratio('indicator_values.communes_included', 'indicator_values.communes_in_force', 100) }} as coverage_pct,
        targets.target_source,
        targets.plan_id,
        targets.target_year,
        targets.target_scope,
        targets.target_comparator,
        targets.target_value,
        targets.target_text,
        targets.target_note_vi,
        targets.target_note_en,
        coalesce(targets.target_status, 'no_target') as target_status,
        cycles.previous_comparable_cycle,
        previous_values.value as previous_value,
        indicator_values.value - previous_values.value as value_change,
        indicator_values.communes_compared,
        indicator_values.compared_value,
        indicator_values.compared_previous_value,
        case
            when indicator_values.compared_previous_value is null or indicator_values.compared_previous_value = 0 then null
            else (indicator_values.compared_previous_value - indicator_values.compared_value) * 100.0 / indicator_values.compared_previous_value
        end as decline_pct

    from indicator_values
    inner join cycles
        on indicator_values.cycle = cycles.cycle
    inner join admin_units
        on indicator_values.hierarchy = admin_units.hierarchy
        and indicator_values.unit_level = admin_units.unit_level
        and indicator_values.unit_code = admin_units.unit_code
    inner join indicators
        on indicator_values.indicator_code = indicators.indicator_code
    left join previous_values
        on cycles.previous_comparable_cycle = previous_values.cycle
        -- codes are read in their hierarchy; the country is the same unit across the reform
        and (indicator_values.hierarchy = previous_values.hierarchy or indicator_values.unit_level = 'country')
        and indicator_values.unit_level = previous_values.unit_level
        and indicator_values.unit_code = previous_values.unit_code
        and indicator_values.indicator_code = previous_values.indicator_code
    left join targets
        on indicator_values.cycle = targets.cycle
        and indicator_values.unit_level = targets.unit_level
        and indicator_values.unit_code = targets.unit_code
        and indicator_values.indicator_code = targets.indicator_code

)

select * from final
