{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- Each unit's target for an indicator (its plan's or the national milestone:
-- int_plan_targets_applied), judged. A unit above the communes with several scoped targets (a
-- district, province or the country under CT04c: one target for rural communes, one for urban)
-- is judged on each: the aggregate of its rural communes against the rural target, of its urban
-- communes against the urban one (an area with no communes in force is skipped); it meets the
-- target when every part is met, misses it when any part is missed, else is unknown. Half-year
-- cycles are `interim`: targets are judged on annual cycles (`is_annual`, carried by the
-- applied targets). The country's rows are judged on its value summed from every province of
-- the cycle, as in fct_indicator_values (macros/country.sql).
{%- set target_of_unit = [
    'cycle', 'hierarchy', 'is_annual', 'unit_level', 'unit_code', 'province_code', 'indicator_code'
] %}

with

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

targets as (

    select * from {{ ref('int_plan_targets_applied') }}
    where
        ({{ cycle_filter('cycle', province_column='province_code') }})
        or (unit_level = 'country' and {{ cycle_filter('cycle') }})

),

rolled_up as (

    select * from {{ ref('int_indicator_values_rolled_up') }}
    where {{ cycle_filter('cycle') }}

),

province_values as (

    -- every province of the cycle: the country's value sums them all
    select * from rolled_up where unit_level = 'province'

),

country_values as (

    {{ country_indicator_values('province_values', 'indicators') }}

),

{%- set value_columns = 'cycle, unit_level, unit_code, indicator_code, numerator, value, compared_value, compared_previous_value' %}

indicator_values as (

    select {{ value_columns }} from rolled_up
    where {{ province_filter('province_code') }}
    union all
    select {{ value_columns }} from country_values

),

parts as (

    select * from {{ ref('int_indicator_parts_paired') }}
    where {{ cycle_filter('cycle') }}

),

area_indicators as (

    select distinct
        cycle,
        indicator_code

    from targets
    where target_scope <> 'all'

),

area_communes as (

    -- the communes' parts of the indicators with area-scoped targets (whole cycles: the
    -- country's parts are every province's)
    select parts.*

    from parts
    inner join area_indicators
        on parts.cycle = area_indicators.cycle
        and parts.indicator_code = area_indicators.indicator_code

),

-- the communes of each district, province and the country by area type
area_parts as (

    {{ roll_up_levels(
        'area_communes',
        keys=['indicator_code', 'area_type'],
        aggregates={
            'numerator': dbt.cast('sum(numerator)', dbt.type_bigint()),
            'denominator': dbt.cast('sum(denominator)', dbt.type_bigint()),
        },
        levels=['district', 'province', 'country'],
    ) }}

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
        and targets.target_scope = area_parts.area_type
    -- an area-scoped target of a unit with no commune of that area type does not apply
    where not (targets.unit_level <> 'commune' and targets.target_scope <> 'all' and area_parts.unit_code is null)

),

judged as (

    select
        components.*,
        {{ judge_target(
            'target_comparator', 'target_value', 'component_value', 'component_numerator',
            'compared_value', 'compared_previous_value'
        ) }} as component_status,
        area_indicators.indicator_code is not null as has_area_targets

    from components
    left join area_indicators
        on components.cycle = area_indicators.cycle
        and components.indicator_code = area_indicators.indicator_code

),

combined as (

    -- a target of several parts (one per area type: only an indicator with area-scoped targets
    -- has them) in one row; the others as they are: grouping every target aggregated the long
    -- texts of a third of a million rows for a few hundred targets
    select
        {{ target_of_unit | join(',\n        ') }},
        max(target_source) as target_source,
        max(plan_id) as plan_id,
        max(target_year) as target_year,
        {{ dbt.listagg('target_scope', "', '", 'order by target_scope') }} as target_scope,
        case when min(target_comparator) = max(target_comparator) then max(target_comparator) end as target_comparator,
        case when count(*) = 1 then max(target_value) end as target_value,
        -- the decision words CT04c's two parts in one sentence: kept once
        case when min(target_text) = max(target_text) then max(target_text)
            else {{ dbt.listagg('target_text', "' | '", 'order by target_scope') }}
        end as target_text,
        max(target_note_vi) as target_note_vi,
        max(target_note_en) as target_note_en,
        sum(case when component_status = 'not_met' then 1 else 0 end) as parts_not_met,
        sum(case when component_status = 'unknown' then 1 else 0 end) as parts_unknown

    from judged
    where has_area_targets
    group by {{ target_of_unit | join(', ') }}

    union all

    select
        {{ target_of_unit | join(',\n        ') }},
        target_source,
        plan_id,
        target_year,
        target_scope,
        target_comparator,
        target_value,
        target_text,
        target_note_vi,
        target_note_en,
        case when component_status = 'not_met' then 1 else 0 end as parts_not_met,
        case when component_status = 'unknown' then 1 else 0 end as parts_unknown

    from judged
    where not has_area_targets

),

final as (

    select
        combined.cycle,
        combined.hierarchy,
        combined.unit_level,
        combined.unit_code,
        combined.province_code,
        combined.indicator_code,
        combined.target_source,
        combined.plan_id,
        combined.target_year,
        combined.target_scope,
        combined.target_comparator,
        combined.target_value,
        combined.target_text,
        combined.target_note_vi,
        combined.target_note_en,
        case
            when not combined.is_annual then 'interim'
            when combined.parts_not_met > 0 then 'not_met'
            when combined.parts_unknown > 0 then 'unknown'
            else 'met'
        end as target_status

    from combined

)

select * from final
