{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- Each expected commune's numerator and denominator for each indicator, and whether the commune
-- counts for it (like for like): it reported both parts; for `@communes` indicators, it
-- reported the flag (numerator = the flag, denominator = 1); for CT13, it reported the count.
with

element_values as (

    select * from {{ ref('int_element_values_expected') }}
    where {{ cycle_filter('cycle', province_column='province_code') }}

),

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

numerators as (

    select
        element_values.cycle,
        element_values.hierarchy,
        element_values.unit_code,
        element_values.district_code,
        element_values.province_code,
        element_values.area_type,
        indicators.indicator_code,
        indicators.aggregation,
        indicators.denominator_element,
        element_values.value as numerator_value

    from element_values
    inner join indicators
        on element_values.element_code = indicators.numerator_element

),

paired as (

    select
        numerators.*,
        denominators.value as denominator_value

    from numerators
    left join element_values as denominators
        on numerators.cycle = denominators.cycle
        and numerators.unit_code = denominators.unit_code
        and numerators.denominator_element = denominators.element_code

),

included as (

    select
        paired.*,
        case
            when paired.aggregation = 'ratio' then paired.numerator_value is not null and paired.denominator_value is not null
            else paired.numerator_value is not null
        end as is_included

    from paired

),

final as (

    select
        cycle,
        hierarchy,
        unit_code,
        district_code,
        province_code,
        area_type,
        indicator_code,
        aggregation,
        numerator_value,
        denominator_value,
        is_included,
        case when is_included then numerator_value end as numerator,
        case
            when not is_included then null
            when aggregation = 'share_of_communes' then {{ dbt.cast('1', dbt.type_bigint()) }}
            else denominator_value
        end as denominator

    from included

)

select * from final
