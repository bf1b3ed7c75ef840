{{ config(materialized='incremental') }}
-- Indicator values of communes, districts and provinces, like for like: numerators and
-- denominators are summed separately over the communes that count for the indicator, then
-- divided; the coverage beside each value says over how many of the communes in force.
with

parts as (

    select * from {{ ref('int_indicator_parts_paired') }}
    where {{ cycle_filter('cycle') }}

),

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

rolled_up as (

    {{ roll_up_levels(
        'parts',
        keys=['indicator_code'],
        aggregates={
            'numerator': dbt.cast('sum(numerator)', dbt.type_bigint()),
            'denominator': dbt.cast('sum(denominator)', dbt.type_bigint()),
            'communes_included': 'sum(case when is_included then 1 else 0 end)',
            'communes_in_force': 'count(*)',
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
        {{ dbt.cast('rolled_up.communes_in_force', dbt.type_int()) }} as communes_in_force

    from rolled_up
    inner join indicators
        on rolled_up.indicator_code = indicators.indicator_code

)

select * from final
