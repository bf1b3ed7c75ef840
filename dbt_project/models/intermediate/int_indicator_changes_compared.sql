{{ config(materialized='incremental') }}
-- Each unit's indicator this cycle against the previous comparable cycle (same kind, one year
-- earlier, same hierarchy), over the communes that counted for it in both cycles: the basis
-- for CT13's yearly fall in child marriages and for `decline` targets. Across the reform codes
-- mean other units, so nothing is compared there.
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

parts as (

    -- this run's cycles and the cycles they are compared with
    select * from {{ ref('int_indicator_parts_paired') }}
    where {{ cycle_filter('cycle', with_previous=true) }}

),

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

current_parts as (

    select parts.*, cycles.previous_comparable_cycle
    from parts
    inner join cycles
        on parts.cycle = cycles.cycle
    where parts.is_included and {{ cycle_filter('parts.cycle') }}

),

previous_parts as (

    select * from parts where is_included

),

matched as (

    select
        current_parts.cycle,
        current_parts.hierarchy,
        current_parts.unit_code,
        current_parts.district_code,
        current_parts.province_code,
        current_parts.indicator_code,
        current_parts.numerator,
        current_parts.denominator,
        previous_parts.numerator as previous_numerator,
        previous_parts.denominator as previous_denominator

    from current_parts
    inner join previous_parts
        on current_parts.previous_comparable_cycle = previous_parts.cycle
        and current_parts.hierarchy = previous_parts.hierarchy
        and current_parts.unit_code = previous_parts.unit_code
        and current_parts.indicator_code = previous_parts.indicator_code

),

rolled_up as (

    {{ roll_up_levels(
        'matched',
        keys=['indicator_code'],
        aggregates={
            'numerator': dbt.cast('sum(numerator)', dbt.type_bigint()),
            'denominator': dbt.cast('sum(denominator)', dbt.type_bigint()),
            'previous_numerator': dbt.cast('sum(previous_numerator)', dbt.type_bigint()),
            'previous_denominator': dbt.cast('sum(previous_denominator)', dbt.type_bigint()),
            'communes_compared': 'count(*)',
        }
    ) }}

),

final as (

    select
        rolled_up.cycle,
        rolled_up.hierarchy,
        rolled_up.unit_level,
        rolled_up.unit_code,
        rolled_up.indicator_code,
        {{ dbt.cast('rolled_up.communes_compared', dbt.type_int()) }} as communes_compared,
        {{ indicator_value('indicators.aggregation', 'rolled_up.numerator', 'rolled_up.denominator', 'indicators.factor') }} as compared_value,
        {{ indicator_value('indicators.aggregation', 'rolled_up.previous_numerator', 'rolled_up.previous_denominator', 'indicators.factor') }} as compared_previous_value

    from rolled_up
    inner join indicators
        on rolled_up.indicator_code = indicators.indicator_code

)

select * from final
