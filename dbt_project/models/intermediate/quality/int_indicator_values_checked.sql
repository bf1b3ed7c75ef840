{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- Check-ready (expectations suite `indicator_checks`): one row per expected commune x indicator
-- measure whose denominator is a data element (31 measures: not CT01 and CT21, shares of
-- communes, nor CT13, a count), whether or not its parts were reported: each part as its
-- reporter's loaded return gives it (null when not reported), the commune's value from them,
-- and who reports each part.
with

parts as (

    select * from {{ ref('int_indicator_parts_paired') }}
    where {{ cycle_filter('cycle', province_column='province_code') }} and aggregation = 'ratio'

),

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

data_elements as (

    select * from {{ ref('stg_reference__data_elements') }}

),

admin_units as (

    select * from {{ ref('stg_reference__admin_units') }}
    where unit_level = 'commune'

),

final as (

    select
        parts.cycle,
        parts.hierarchy,
        parts.unit_code,
        'commune' as unit_level,
        admin_units.name_vi as unit_name,
        parts.district_code,
        parts.province_code,
        parts.indicator_code,
        indicators.name_vi as indicator_name_vi,
        indicators.name_en as indicator_name_en,
        indicators.value_unit as indicator_unit,
        {{ dbt.cast('indicators.factor', type_double()) }} as factor,
        indicators.numerator_element,
        numerator_elements.name_vi as numerator_name_vi,
        numerator_elements.name_en as numerator_name_en,
        indicators.denominator_element,
        denominator_elements.name_vi as denominator_name_vi,
        denominator_elements.name_en as denominator_name_en,
        {{ expected_reporter_code('numerator_elements.reported_by', 'parts.unit_code', 'admin_units.parent_code') }} as reporter_code,
        {{ expected_reporter_code('numerator_elements.reported_by', 'parts.unit_code', 'admin_units.parent_code') }} as numerator_reporter_code,
        {{ expected_reporter_code('denominator_elements.reported_by', 'parts.unit_code', 'admin_units.parent_code') }} as denominator_reporter_code,
        {{ dbt.cast('parts.numerator_value', type_double()) }} as numerator,
        {{ dbt.cast('parts.denominator_value', type_double()) }} as denominator,
        {{ ratio('parts.numerator_value', 'parts.denominator_value', 'indicators.factor') }} as value

    from parts
    inner join indicators
        on parts.indicator_code = indicators.indicator_code
    inner join data_elements as numerator_elements
        on indicators.numerator_element = numerator_elements.element_code
    inner join data_elements as denominator_elements
        on indicators.denominator_element = denominator_elements.element_code
    inner join admin_units
        on parts.hierarchy = admin_units.hierarchy
        and parts.unit_code = admin_units.unit_code

)

select * from final
