{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- Indicator values of communes, districts and provinces, like for like: numerators and
-- denominators are summed separately over the communes that count for the indicator, then
-- divided; the coverage beside each value says over how many of the communes in force.
-- Beside it, the same over the communes that counted in both this cycle and the previous
-- comparable one (same kind, one year earlier, same hierarchy): the basis for CT13's yearly
-- fall and for `decline` targets. Across a reform codes mean other units: there a commune is
-- compared with the figures of its predecessors carried onto it (int_indicator_values_carried,
-- in the commune's hierarchy), when every predecessor reported.
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

parts as (

    -- this run's cycles and the cycles they are compared with
    select * from {{ ref('int_indicator_parts_paired') }}
    where {{ cycle_filter('cycle', with_previous=true, province_column='province_code') }}

),

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

current_parts as (

    select
        parts.*,
        cycles.previous_comparable_cycle

    from parts
    inner join cycles
        on parts.cycle = cycles.cycle
    where {{ cycle_filter('parts.cycle') }}

),

previous_parts as (

    select cycle, hierarchy, unit_code, indicator_code, numerator, denominator
    from parts
    where is_included
    union all
    -- the previous cycle of another hierarchy, carried onto this one's communes
    select cycle, hierarchy, unit_code, indicator_code, numerator, denominator
    from {{ ref('int_indicator_values_carried') }}
    where unit_level = 'commune' and is_complete
        and {{ cycle_filter('cycle', with_previous=true, province_column='province_code') }}

),

paired as (

    select
        current_parts.cycle,
        current_parts.hierarchy,
        current_parts.unit_code,
        current_parts.district_code,
        current_parts.province_code,
        current_parts.indicator_code,
        current_parts.is_included,
        current_parts.numerator,
        current_parts.denominator,
        current_parts.is_included and previous_parts.unit_code is not null as is_compared,
        previous_parts.numerator as previous_numerator,
        previous_parts.denominator as previous_denominator

    from current_parts
    left join previous_parts
        on current_parts.previous_comparable_cycle = previous_parts.cycle
        and current_parts.hierarchy = previous_parts.hierarchy
        and current_parts.unit_code = previous_parts.unit_code
        and current_parts.indicator_code = previous_parts.indicator_code

),

rolled_up as (

    {{ roll_up_levels(
        'paired',
        keys=['indicator_code'],
        aggregates={
            'numerator': dbt.cast('sum(numerator)', dbt.type_bigint()),
            'denominator': dbt.cast('sum(denominator)', dbt.type_bigint()),
            'communes_included': 'sum(case when is_included then 1 else 0 end)',
            'communes_in_force': 'count(*)',
            'communes_compared': 'sum(case when is_compared then 1 else 0 end)',
            'compared_numerator': dbt.cast('sum(case when is_compared then numerator end)', dbt.type_bigint()),
            'compared_denominator': dbt.cast('sum(case when is_compared then denominator end)', dbt.type_bigint()),
            'previous_numerator': dbt.cast('sum(case when is_compared then previous_numerator end)', dbt.type_bigint()),
            'previous_denominator': dbt.cast('sum(case when is_compared then previous_denominator end)', dbt.type_bigint()),
        }
    ) }}

),

final as (

    select
        rolled_up.cycle,
        rolled_up.hierarchy,
        rolled_up.unit_level,
        rolled_up.unit_code,
        rolled_up.district_code,
        rolled_up.province_code,
        rolled_up.indicator_code,
        rolled_up.numerator,
        rolled_up.denominator,
        {{ indicator_value('indicators.aggregation', 'rolled_up.numerator', 'rolled_up.denominator', 'indicators.factor') }} as value,
        {{ dbt.cast('rolled_up.communes_included', dbt.type_int()) }} as communes_included,
        {{ dbt.cast('rolled_up.communes_in_force', dbt.type_int()) }} as communes_in_force,
        {{ dbt.cast('rolled_up.communes_compared', dbt.type_int()) }} as communes_compared,
        -- the compared parts, summed again for the country (fct_indicator_values)
        rolled_up.compared_numerator,
        rolled_up.compared_denominator,
        rolled_up.previous_numerator,
        rolled_up.previous_denominator,
        {{ indicator_value('indicators.aggregation', 'rolled_up.compared_numerator', 'rolled_up.compared_denominator', 'indicators.factor') }} as compared_value,
        {{ indicator_value('indicators.aggregation', 'rolled_up.previous_numerator', 'rolled_up.previous_denominator', 'indicators.factor') }} as compared_previous_value

    from rolled_up
    inner join indicators
        on rolled_up.indicator_code = indicators.indicator_code

)

select * from final
