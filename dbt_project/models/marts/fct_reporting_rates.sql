{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='append_new_columns', meta={'rebuild_by_province': true}) }}
-- Reporting rate (received / expected) and timeliness (received on time / expected) of every
-- district (before the reform), province and the country, for communes, agencies and all
-- reporters. A district's agencies count for the district and its province. The country counts
-- every province of the cycle (whichever provinces this run rebuilds: its rows are replaced
-- whole, see macros/incremental_replace_cycles.sql).
with

return_status as (

    select * from {{ ref('fct_return_status') }}
    where {{ cycle_filter('cycle') }}

),

admin_units as (

    select hierarchy, unit_level, unit_code, name_vi from {{ ref('stg_reference__admin_units') }}
    union all
    {{ country_units(ref('stg_reference__admin_units')) }}

),

by_kind as (

    select
        cycle,
        hierarchy,
        unit_code,
        district_code,
        province_code,
        reporter_kind,
        case when received then 1 else 0 end as is_received,
        case when on_time then 1 else 0 end as is_on_time

    from return_status

),

all_kinds as (

    select * from by_kind
    union all
    select
        cycle,
        hierarchy,
        unit_code,
        district_code,
        province_code,
        'all' as reporter_kind,
        is_received,
        is_on_time

    from by_kind

),

{%- set counts = {
    'expected_returns': dbt.cast('count(*)', dbt.type_int()),
    'received_returns': dbt.cast('sum(is_received)', dbt.type_int()),
    'on_time_returns': dbt.cast('sum(is_on_time)', dbt.type_int()),
} %}

rebuilt_provinces as (

    select * from all_kinds where {{ province_filter('province_code') }}

),

rolled_up as (

    {{ roll_up_levels('rebuilt_provinces', keys=['reporter_kind'], aggregates=counts, levels=['district', 'province']) }}
    union all
    {{ roll_up_levels('all_kinds', keys=['reporter_kind'], aggregates=counts, levels=['country']) }}

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
        rolled_up.reporter_kind,
        rolled_up.expected_returns,
        rolled_up.received_returns,
        rolled_up.on_time_returns,
        rolled_up.expected_returns - rolled_up.received_returns as missing_returns,
        {{ ratio('rolled_up.received_returns', 'rolled_up.expected_returns', 100) }} as reporting_rate,
        {{ ratio('rolled_up.on_time_returns', 'rolled_up.expected_returns', 100) }} as timeliness_rate

    from rolled_up
    inner join admin_units
        on rolled_up.hierarchy = admin_units.hierarchy
        and rolled_up.unit_level = admin_units.unit_level
        and rolled_up.unit_code = admin_units.unit_code

)

select * from final
