{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true, 'rebuild_later_cycles': true}) }}
-- Check-ready (expectations suite `element_checks`): one row per received return x commune it
-- covers x data element of the reporter's role, with the figure the return carries (null when
-- it does not: blank, or a row refused by ingest) and the figure's history (over-time
-- measures of int_element_values_history). A commune's return covers the commune; an agency's
-- return every expected commune of its district (province after the reform). Received = a
-- `loaded` return. The history holds earlier cycles, so later cycles of the kind are rebuilt
-- with a cycle (meta rebuild_later_cycles).
with

returns_checked as (

    -- the expected reporters' returns (fct_return_status, as the suite `expected_returns` reads it)
    select * from {{ ref('int_returns_checked') }}
    where {{ cycle_filter('cycle', with_later=true, province_column='province_code') }}

),

element_history as (

    select * from {{ ref('int_element_values_history') }}
    where {{ cycle_filter('cycle', with_later=true, province_column='province_code') }}

),

communes as (

    -- the expected communes: the history has a row per expected commune and element
    select distinct cycle, hierarchy, unit_code, district_code, province_code
    from element_history

),

data_elements as (

    select * from {{ ref('stg_reference__data_elements') }}

),

admin_units as (

    select * from {{ ref('stg_reference__admin_units') }}
    where unit_level = 'commune'

),

received_returns as (

    select
        cycle,
        hierarchy,
        reporter_code,
        reporter_role,
        reporter_name,
        unit_level,
        unit_code

    from returns_checked
    where is_received

),

coverage as (

    -- the communes each return covers: the commune itself, or the agency's district's
    -- (province's) expected communes
    select received_returns.*, communes.unit_code as commune_code, communes.district_code, communes.province_code
    from received_returns
    inner join communes
        on received_returns.cycle = communes.cycle
        and received_returns.unit_code = communes.unit_code
    where received_returns.unit_level = 'commune'

    union all

    select received_returns.*, communes.unit_code as commune_code, communes.district_code, communes.province_code
    from received_returns
    inner join communes
        on received_returns.cycle = communes.cycle
        and received_returns.unit_code = communes.district_code
    where received_returns.unit_level = 'district'

    union all

    select received_returns.*, communes.unit_code as commune_code, communes.district_code, communes.province_code
    from received_returns
    inner join communes
        on received_returns.cycle = communes.cycle
        and received_returns.unit_code = communes.province_code
    where received_returns.unit_level = 'province'

),

final as (

    select
        coverage.cycle,
        coverage.hierarchy,
        coverage.reporter_code,
        coverage.reporter_role,
        coverage.reporter_name,
        coverage.commune_code as unit_code,
        'commune' as unit_level,
        admin_units.name_vi as unit_name,
        coverage.district_code,
        coverage.province_code,
        data_elements.element_code,
        data_elements.element_kind,
        data_elements.name_vi as element_name_vi,
        data_elements.name_en as element_name_en,
        {{ dbt.cast('element_history.value', type_double()) }} as value,
        element_history.history_cycles,
        coalesce(element_history.history_is_carried, false) as history_is_carried,
        element_history.history_median,
        element_history.history_mad,
        element_history.modified_z,
        element_history.mean3,
        element_history.ratio_to_mean3

    from coverage
    inner join data_elements
        on coverage.reporter_role = data_elements.reported_by
    inner join admin_units
        on coverage.hierarchy = admin_units.hierarchy
        and coverage.commune_code = admin_units.unit_code
    left join element_history
        on coverage.cycle = element_history.cycle
        and coverage.commune_code = element_history.unit_code
        and data_elements.element_code = element_history.element_code

)

select * from final
