{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- One row per expected commune and data element of a cycle, with the current figure: the value
-- from the reporter's loaded return, or null when nobody reported it (never invented).
with

communes as (

    select * from {{ ref('int_communes_expected') }}
    where {{ cycle_filter('cycle', province_column='province_code') }}

),

data_elements as (

    select * from {{ ref('stg_reference__data_elements') }}

),

received_files as (

    select * from {{ ref('stg_raw__received_files') }}
    where {{ cycle_filter('cycle') }}

),

return_values as (

    select * from {{ ref('stg_raw__return_values') }}
    where {{ cycle_filter('cycle') }}

),

loaded_files as (

    select cycle, file_sha256
    from received_files
    where file_status = 'loaded'

),

current_values as (

    select
        return_values.cycle,
        return_values.unit_code,
        return_values.element_code,
        return_values.value,
        return_values.reporter_code

    from return_values
    inner join loaded_files
        on return_values.file_sha256 = loaded_files.file_sha256
        and return_values.cycle = loaded_files.cycle

),

expected as (

    -- every expected commune carries every element (agencies report theirs per commune)
    select
        communes.cycle,
        communes.hierarchy,
        communes.unit_code,
        communes.district_code,
        communes.province_code,
        communes.area_type,
        data_elements.element_code

    from communes
    cross join data_elements

),

final as (

    select
        expected.cycle,
        expected.hierarchy,
        expected.unit_code,
        expected.district_code,
        expected.province_code,
        expected.area_type,
        expected.element_code,
        current_values.value,
        current_values.reporter_code

    from expected
    left join current_values
        on expected.cycle = current_values.cycle
        and expected.unit_code = current_values.unit_code
        and expected.element_code = current_values.element_code

)

select * from final
