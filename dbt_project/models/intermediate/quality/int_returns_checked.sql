{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- Check-ready (expectations suite `expected_returns`): one row per reporter expected to send a
-- return for the cycle, with whether it was received and on time. Deadline, receipt and
-- timeliness are fct_return_status's: a return is on time when its first accepted version was
-- delivered (submitted_on, else the day it arrived) by the deadline.
with

return_status as (

    select * from {{ ref('fct_return_status') }}
    where {{ cycle_filter('cycle', province_column='province_code') }}

),

final as (

    select
        cycle,
        hierarchy,
        reporter_code,
        coalesce(agency, 'commune') as reporter_role,
        reporter_name_vi as reporter_name,
        unit_code,
        unit_level,
        unit_name_vi as unit_name,
        district_code,
        province_code,
        received as is_received,
        deadline as due_date,
        deadline_plan_id,
        case when received then on_time end as is_on_time,
        case when received then first_delivered_on end as submitted_on,
        current_file_name

    from return_status

)

select * from final
