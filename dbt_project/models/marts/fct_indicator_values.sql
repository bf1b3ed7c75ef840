{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- Indicator values of every unit in force (and in scope) in a cycle, like for like, with their
-- coverage, the plan target and its status, and the previous comparable cycle.
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

indicator_values as (

    select * from {{ ref('int_indicator_values_rolled_up') }}
    where {{ cycle_filter('cycle', province_column='province_code') }}

),

previous_values as (

    select * from {{ ref('int_indicator_values_rolled_up') }}
    where {{ cycle_filter('cycle', with_previous=true, province_column='province_code') }}

),

targets as (

    select * from {{ ref('int_plan_targets_judged') }}
    where {{ cycle_filter('cycle') }}

),

admin_units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

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
        targets.plan_id,
        targets.target_scope,
        targets.target_comparator,
        targets.target_value,
        targets.target_text,
        coalesce(targets.target_status, 'no_target') as target_status,
        cycles.previous_comparable_cycle,
        previous_values.value as previous_value,
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
        and indicator_values.hierarchy = previous_values.hierarchy
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
