{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- Each cycle's indicator values carried onto the units of the next hierarchy version: every
-- expected old commune's parts go to its main successor (int_commune_successions_mapped) and
-- that commune's province, and are rolled up like for like there (numerators and denominators
-- summed separately over the old communes that reported both parts; communes_in_force = the
-- expected old communes making up the unit). Exact for provinces (no old commune spans two);
-- a new commune that took all or part of a divided old commune is approximate
-- (`includes_divided_commune`). A commune's carried value is complete when every old commune
-- carried to it (by the successions, in scope or not) reported: only then is it compared with
-- the commune's own value of the next comparable cycle (int_indicator_values_rolled_up).
-- `province_code` is the new province: a rebuild by province names new codes here (cycle/transform.py
-- adds the successor provinces of the provinces whose returns changed).
with

parts as (

    -- every old commune of this run's cycles: which of them go to the rebuilt new provinces
    -- is known after the mapping
    select * from {{ ref('int_indicator_parts_paired') }}
    where {{ cycle_filter('cycle') }}

),

successions as (

    select * from {{ ref('int_commune_successions_mapped') }}

),

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

carried as (

    select
        parts.cycle,
        successions.hierarchy,
        parts.hierarchy as source_hierarchy,
        successions.new_commune_code as unit_code,
        {{ dbt.cast('null', dbt.type_string()) }} as district_code,
        successions.new_province_code as province_code,
        parts.indicator_code,
        parts.is_included,
        parts.numerator,
        parts.denominator,
        successions.new_commune_predecessors,
        successions.new_commune_includes_divided

    from parts
    inner join successions
        on parts.hierarchy = successions.previous_hierarchy
        and parts.unit_code = successions.old_commune_code
    where {{ province_filter('successions.new_province_code') }}

),

rolled_up as (

    {{ roll_up_levels(
        'carried',
        keys=['source_hierarchy', 'indicator_code'],
        aggregates={
            'numerator': dbt.cast('sum(numerator)', dbt.type_bigint()),
            'denominator': dbt.cast('sum(denominator)', dbt.type_bigint()),
            'communes_included': 'sum(case when is_included then 1 else 0 end)',
            'communes_in_force': 'count(*)',
            'predecessors': 'max(new_commune_predecessors)',
            'divided_parts': 'max(case when new_commune_includes_divided then 1 else 0 end)',
        },
        levels=['commune', 'province'],
    ) }}

),

final as (

    select
        rolled_up.cycle,
        rolled_up.hierarchy,
        rolled_up.source_hierarchy,
        rolled_up.unit_level,
        rolled_up.unit_code,
        rolled_up.province_code,
        rolled_up.indicator_code,
        rolled_up.numerator,
        rolled_up.denominator,
        {{ indicator_value('indicators.aggregation', 'rolled_up.numerator', 'rolled_up.denominator', 'indicators.factor') }} as value,
        {{ dbt.cast('rolled_up.communes_included', dbt.type_int()) }} as communes_included,
        {{ dbt.cast('rolled_up.communes_in_force', dbt.type_int()) }} as communes_in_force,
        -- provinces are exact; a commune is not when it took (part of) a divided old commune
        rolled_up.unit_level = 'commune' and rolled_up.divided_parts = 1 as includes_divided_commune,
        -- a commune: every old commune carried to it reported (in scope or not); a province:
        -- every expected old commune did
        rolled_up.communes_included = case
            when rolled_up.unit_level = 'commune' then rolled_up.predecessors
            else rolled_up.communes_in_force
        end as is_complete

    from rolled_up
    inner join indicators
        on rolled_up.indicator_code = indicators.indicator_code

)

select * from final
