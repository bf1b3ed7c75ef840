{#- Where each unit of a cycle stands: received -> built -> validated -> reported -> alerted.
    A view (see the yml): read from the steps' ledger and the raw layer as they are now. -#}

with

-- the reporters' receipts as the returns check reads them (fct_return_status's, one row each)
reporters as (

    select cycle, hierarchy, reporter_code, district_code, province_code, is_received as received
    from {{ ref('int_returns_checked') }}

),

-- each reporter counts for its district (before the reform) and its province
reporter_units as (

    select
        cycle, hierarchy, 'district' as unit_level, district_code as unit_code,
        province_code, reporter_code, received
    from reporters
    where district_code is not null

    union all

    select
        cycle, hierarchy, 'province' as unit_level, province_code as unit_code,
        province_code, reporter_code, received
    from reporters

),

last_entries as (

    select step, cycle, item, digest, outcome, recorded_at
    from {{ ref('stg_ops__step_ledger_entries') }}
    where recency = 1

),

-- files received whose state the last successful build did not see (new, superseded since...)
files_pending as (

    select files.cycle, files.reporter_code
    from {{ ref('stg_raw__received_files') }} as files
    left join last_entries as built
        on built.step = 'transform'
        and built.cycle = files.cycle
        and built.item = 'file/' || files.file_sha256 || '/' || files.file_name
        and built.digest = files.file_status || '/' || coalesce(files.reporter_code, '')
    where built.item is null and files.reporter_code is not null

),

unit_returns as (

    select
        reporter_units.cycle,
        reporter_units.hierarchy,
        reporter_units.unit_level,
        reporter_units.unit_code,
        reporter_units.province_code,
        count(*) as reporters_expected,
        sum(case when reporter_units.received then 1 else 0 end) as returns_received,
        count(distinct files_pending.reporter_code) as reporters_changed_since_build
    from reporter_units
    left join files_pending
        on files_pending.cycle = reporter_units.cycle
        and files_pending.reporter_code = reporter_units.reporter_code
    group by 1, 2, 3, 4, 5

),

province_steps as (

    select
        cycle,
        substr(item, 10) as province_code,
        max(case when step = 'transform' then recorded_at end) as built_at,
        max(case when step = 'validate' then recorded_at end) as validated_at
    from last_entries
    where step in ('transform', 'validate') and item like 'province/%'
    group by 1, 2

),

stamped as (

    select
        unit_returns.*,
        province_steps.built_at,
        province_steps.validated_at,
        reported.recorded_at as reported_at,
        alert_run.recorded_at as alerts_run_at,
        office_alert.outcome as alert_outcome,
        office_alert.recorded_at as alerted_at
    from unit_returns
    left join province_steps
        on province_steps.cycle = unit_returns.cycle
        and province_steps.province_code = unit_returns.province_code
    left join last_entries as reported
        on reported.step = 'report'
        and reported.cycle = unit_returns.cycle
        and reported.item = unit_returns.unit_level || '/' || unit_returns.unit_code
    left join last_entries as alert_run
        on alert_run.step = 'alert'
        and alert_run.cycle = unit_returns.cycle
        and alert_run.item = 'run'
    left join last_entries as office_alert
        on office_alert.step = 'alert'
        and office_alert.cycle = unit_returns.cycle
        and office_alert.item = unit_returns.unit_code

),

final as (

    select
        stamped.cycle,
        stamped.hierarchy,
        stamped.unit_level,
        stamped.unit_code,
        units.name_vi as unit_name_vi,
        stamped.province_code,
        {{ dbt.cast('stamped.reporters_expected', dbt.type_int()) }} as reporters_expected,
        {{ dbt.cast('stamped.returns_received', dbt.type_int()) }} as returns_received,
        {{ dbt.cast('stamped.reporters_changed_since_build', dbt.type_int()) }}
            as reporters_changed_since_build,
        case
            when stamped.built_at is null or stamped.reporters_changed_since_build > 0
                then 'received'
            when stamped.validated_at is null or stamped.validated_at < stamped.built_at
                then 'built'
            when stamped.reported_at is null or stamped.reported_at < stamped.validated_at
                then 'validated'
            when stamped.alerts_run_at is null or stamped.alerts_run_at < stamped.reported_at
                or stamped.alert_outcome = 'failed'
                then 'reported'
            else 'alerted'
        end as state,
        stamped.built_at,
        stamped.validated_at,
        stamped.reported_at,
        stamped.alerted_at,
        stamped.alert_outcome
    from stamped
    left join {{ ref('dim_admin_units') }} as units
        on units.hierarchy = stamped.hierarchy
        and units.unit_level = stamped.unit_level
        and units.unit_code = stamped.unit_code

)

select * from final
