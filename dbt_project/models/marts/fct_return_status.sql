{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='append_new_columns', meta={'rebuild_by_province': true}) }}
-- One row per expected reporter and cycle: whether its return arrived, whether on time, and
-- what else it sent (superseded returns, duplicates, files and rows rejected).
with

reporters as (

    select * from {{ ref('int_reporters_expected') }}
    where {{ cycle_filter('cycle', province_column='province_code') }}

),

returns_received as (

    select * from {{ ref('int_returns_received') }}
    where {{ cycle_filter('cycle') }}

),

admin_units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

agency_titles as (

    select 'health' as agency, 'district' as unit_level, 'Trung tâm Y tế' as title_vi union all
    select 'education' as agency, 'district' as unit_level, 'Phòng Giáo dục và Đào tạo' as title_vi union all
    select 'police' as agency, 'district' as unit_level, 'Công an' as title_vi union all
    select 'health' as agency, 'province' as unit_level, 'Sở Y tế' as title_vi union all
    select 'education' as agency, 'province' as unit_level, 'Sở Giáo dục và Đào tạo' as title_vi union all
    select 'police' as agency, 'province' as unit_level, 'Công an' as title_vi

),

final as (

    select
        reporters.cycle,
        reporters.hierarchy,
        reporters.reporter_code,
        reporters.reporter_kind,
        reporters.agency,
        case
            when reporters.reporter_kind = 'commune' then admin_units.name_vi
            -- 'Trung tâm Y tế huyện Như Xuân'
            else {{ dbt.concat([
                'agency_titles.title_vi', "' '",
                'lower(left(admin_units.name_vi, 1))',
                dbt.right('admin_units.name_vi', dbt.length('admin_units.name_vi') ~ ' - 1'),
            ]) }}
        end as reporter_name_vi,
        reporters.unit_level,
        reporters.unit_code,
        admin_units.name_vi as unit_name_vi,
        reporters.district_code,
        reporters.province_code,
        returns_received.current_file_sha256 is not null as received,
        returns_received.current_file_name,
        returns_received.current_file_sha256,
        returns_received.submitted_on,
        returns_received.received_at,
        returns_received.first_delivered_on,
        reporters.deadline,
        reporters.deadline_plan_id,
        coalesce(returns_received.first_delivered_on <= reporters.deadline, false) as on_time,
        coalesce(returns_received.files_received, 0) as files_received,
        coalesce(returns_received.superseded_returns, 0) as superseded_count,
        coalesce(returns_received.duplicate_files, 0) as duplicate_files,
        coalesce(returns_received.rejected_files, 0) as rejected_files,
        returns_received.rows_loaded,
        returns_received.rejected_rows

    from reporters
    inner join admin_units
        on reporters.hierarchy = admin_units.hierarchy
        and reporters.unit_level = admin_units.unit_level
        and reporters.unit_code = admin_units.unit_code
    left join agency_titles
        on reporters.agency = agency_titles.agency
        and reporters.unit_level = agency_titles.unit_level
    left join returns_received
        on reporters.cycle = returns_received.cycle
        and reporters.reporter_code = returns_received.reporter_code

)

select * from final
