{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail') }}
-- Each unit's plan target for an indicator, judged. A unit with several scoped targets (a
-- district under CT04c: one target for rural communes, one for urban) is judged on each: the
-- aggregate of its rural communes against the rural target, of its urban communes against the
-- urban one (an area with no communes in force is skipped); it meets the target when every
-- part is met, misses it when any part is missed, else is unknown. Half-year cycles are
-- `interim`: targets are judged on annual cycles (`is_annual`, carried by the applied targets).
with

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

targets as (

    select * from {{ ref('int_plan_targets_applied') }}
    where {{ cycle_filter('cycle') }}

),

indicator_values as (

    select * from {{ ref('int_indicator_values_rolled_up') }}
    where {{ cycle_filter('cycle') }}

),

parts as (

    select * from {{ ref('int_indicator_parts_paired') }}
    where {{ cycle_filter('cycle') }}

),

area_parts as (

    -- the communes of a district by area type, for the district's area-scoped targets
    select
        targets.cycle,
        targets.unit_level,
        targets.unit_code,
        targets.indicator_code,
        targets.target_scope,
        {{ dbt.cast('sum(parts.numerator)', dbt.type_bigint()) }} as numerator,
        {{ dbt.cast('sum(parts.denominator)', dbt.type_bigint()) }} as denominator

    from targets
    inner join parts
        on targets.cycle = parts.cycle
        and targets.unit_code = parts.district_code
        and targets.indicator_code = parts.indicator_code
        and targets.target_scope = parts.area_type
    where targets.unit_level = 'district' and targets.target_scope <> 'all'
    group by
        targets.cycle,
        targets.unit_level,
        targets.unit_code,
        targets.indicator_code,
        targets.target_scope

),

components as (

    select
        targets.*,
        case when area_parts.unit_code is null then indicator_values.value
            else {{ indicator_value('indicators.aggregation', 'area_parts.numerator', 'area_parts.denominator', 'indicators.factor') }}
        end as component_value,
        case when area_parts.unit_code is null then indicator_values.numerator
            else area_parts.numerator
        end as component_numerator,
        case when area_parts.unit_code is null then indicator_values.compared_value end as compared_value,
        case when area_parts.unit_code is null then indicator_values.compared_previous_value end as compared_previous_value

    from targets
    inner join indicators
        on targets.indicator_code = indicators.indicator_code
    left join indicator_values
        on targets.cycle = indicator_values.cycle
        and targets.unit_level = indicator_values.unit_level
        and targets.unit_code = indicator_values.unit_code
        and targets.indicator_code = indicator_values.indicator_code
    left join area_parts
        on targets.cycle = area_parts.cycle
        and targets.unit_level = area_parts.unit_level
        and targets.unit_code = area_parts.unit_code
        and targets.indicator_code = area_parts.indicator_code
        and targets.target_scope = area_parts.target_scope
    -- a district's area-scoped target with no commune of that area type does not apply
    where not (targets.unit_level = 'district' and targets.target_scope <> 'all' and area_parts.unit_code is null)

),

judged as (

    select
        components.*,
        {{ judge_target(
            'target_comparator', 'target_value', 'component_value', 'component_numerator',
            'compared_value', 'compared_previous_value'
        ) }} as component_status

    from components

),

combined as (

    select
        cycle,
        hierarchy,
        is_annual,
        unit_level,
        unit_code,
        indicator_code,
        max(plan_id) as plan_id,
        {{ dbt.listagg('target_scope', "', '", 'order by target_scope') }} as target_scope,
        case when min(target_comparator) = max(target_comparator) then max(target_comparator) end as target_comparator,
        case when count(*) = 1 then max(target_value) end as target_value,
        {{ dbt.listagg('target_text', "' | '", 'order by target_scope') }} as target_text,
        sum(case when component_status = 'not_met' then 1 else 0 end) as parts_not_met,
        sum(case when component_status = 'unknown' then 1 else 0 end) as parts_unknown

    from judged
    group by cycle, hierarchy, is_annual, unit_level, unit_code, indicator_code

),

final as (

    select
        combined.cycle,
        combined.hierarchy,
        combined.unit_level,
        combined.unit_code,
        combined.indicator_code,
        combined.plan_id,
        combined.target_scope,
        combined.target_comparator,
        combined.target_value,
        combined.target_text,
        case
            when not combined.is_annual then 'interim'
            when combined.parts_not_met > 0 then 'not_met'
            when combined.parts_unknown > 0 then 'unknown'
            else 'met'
        end as target_status

    from combined

)

select * from final
