{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='append_new_columns', meta={'rebuild_by_province': true}) }}
-- Every data element of every unit in force (and in scope) in a cycle, rolled up commune ->
-- district -> province by sum over the communes that reported it. A value nobody reported
-- stays null: a district's sum only covers `communes_reported` of `communes_in_force`.
with

element_values as (

    select * from {{ ref('int_element_values_expected') }}
    where {{ cycle_filter('cycle', province_column='province_code') }}

),

admin_units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

data_elements as (

    select * from {{ ref('stg_reference__data_elements') }}

),

rolled_up as (

    {{ roll_up_levels(
        'element_values',
        keys=['element_code'],
        aggregates={
            'value': dbt.cast('sum(value)', dbt.type_bigint()),
            'communes_reported': dbt.cast('count(value)', dbt.type_int()),
            'communes_in_force': dbt.cast('count(*)', dbt.type_int()),
        }
    ) }}

),

final as (

    select
        rolled_up.cycle,
        rolled_up.hierarchy,
        rolled_up.unit_level,
        rolled_up.unit_code,
        admin_units.name_vi as unit_name_vi,
        rolled_up.district_code,
        rolled_up.province_code,
        rolled_up.element_code,
        data_elements.name_vi as element_name_vi,
        data_elements.name_en as element_name_en,
        data_elements.reported_by,
        rolled_up.value,
        rolled_up.communes_reported,
        rolled_up.communes_in_force

    from rolled_up
    inner join admin_units
        on rolled_up.hierarchy = admin_units.hierarchy
        and rolled_up.unit_level = admin_units.unit_level
        and rolled_up.unit_code = admin_units.unit_code
    inner join data_elements
        on rolled_up.element_code = data_elements.element_code

)

select * from final
