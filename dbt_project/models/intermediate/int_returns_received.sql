-- What each reporter sent for a cycle: its current (loaded) return and counts of every file
-- it sent. A reporter counts as on time by its first accepted return (loaded or superseded
-- since), so a correction sent after the deadline does not make a punctual reporter late.
with

received_files as (

    select * from {{ ref('stg_raw__received_files') }}

),

with_reporter as (

    select * from received_files where reporter_code is not null

),

loaded as (

    select * from with_reporter where file_status = 'loaded'

),

counts as (

    select
        cycle,
        reporter_code,
        count(*) as files_received,
        sum(case when file_status = 'superseded' then 1 else 0 end) as superseded_returns,
        sum(case when file_status = 'duplicate' then 1 else 0 end) as duplicate_files,
        sum(case when file_status = 'rejected' then 1 else 0 end) as rejected_files,
        min(case when file_status in ('loaded', 'superseded') then delivered_on end) as first_delivered_on

    from with_reporter
    group by cycle, reporter_code

),

final as (

    select
        counts.cycle,
        counts.reporter_code,
        loaded.file_name as current_file_name,
        loaded.file_sha256 as current_file_sha256,
        loaded.submitted_on,
        loaded.received_at,
        counts.first_delivered_on,
        {{ dbt.cast('counts.files_received', dbt.type_int()) }} as files_received,
        {{ dbt.cast('counts.superseded_returns', dbt.type_int()) }} as superseded_returns,
        {{ dbt.cast('counts.duplicate_files', dbt.type_int()) }} as duplicate_files,
        {{ dbt.cast('counts.rejected_files', dbt.type_int()) }} as rejected_files,
        loaded.rows_loaded,
        loaded.rows_rejected as rejected_rows

    from counts
    left join loaded
        on counts.cycle = loaded.cycle
        and counts.reporter_code = loaded.reporter_code

)

select * from final
