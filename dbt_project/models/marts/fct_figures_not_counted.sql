{%- set status_rank -%}
    case received_files.file_status
        when 'loaded' then 1 when 'superseded' then 2 when 'rejected' then 3 else 4
    end
{%- endset %}
-- Every figure of the raw layer that no commune-level row of fct_element_values counts, with
-- the reason: with fct_element_values it accounts for every row of raw.return_values (a test
-- checks it). A table rebuilt by cycle: as a view, every read (an analyst's, each data test)
-- recomputed it, and PostgreSQL could not hash a national cycle's keys within work_mem, so it
-- compared every figure with every counted value (minutes to hours).
with

return_values as (

    select * from {{ ref('stg_raw__return_values') }}
    where {{ cycle_filter('cycle') }}

),

received_files as (

    select * from {{ ref('stg_raw__received_files') }}
    where {{ cycle_filter('cycle') }}

),

-- A file's figures are stored once per content (sha256): when the same bytes came again under
-- another name (a `duplicate`), they are the figures of the record that counts most. Grouped,
-- not ranked with a window: PostgreSQL's planner misjudges a window's filter badly here.
content as (

    select
        received_files.cycle,
        received_files.file_sha256,
        min({{ status_rank }}) as status_rank

    from received_files
    group by received_files.cycle, received_files.file_sha256

),

file_of_content as (

    select
        received_files.cycle,
        received_files.file_sha256,
        received_files.file_status,
        min(received_files.file_name) as file_name

    from received_files
    inner join content
        on received_files.cycle = content.cycle
        and received_files.file_sha256 = content.file_sha256
        and {{ status_rank }} = content.status_rank
    group by received_files.cycle, received_files.file_sha256, received_files.file_status

),

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

admin_units as (

    -- every commune of every hierarchy, in scope or not (the dimension fct_element_values names)
    select hierarchy, unit_code, valid_from, valid_to from {{ ref('dim_admin_units') }}
    where unit_level = 'commune'

),

communes_expected as (

    select
        communes_expected.cycle,
        communes_expected.unit_code
    from {{ ref('int_communes_expected') }} as communes_expected
    where {{ cycle_filter('communes_expected.cycle') }}

),

counted as (

    select
        element_values.cycle,
        element_values.unit_code,
        element_values.element_code
    from {{ ref('fct_element_values') }} as element_values
    where element_values.unit_level = 'commune' and {{ cycle_filter('element_values.cycle') }}

),

figures as (

    select
        return_values.cycle,
        cycles.hierarchy,
        received_files.file_name,
        return_values.file_sha256,
        received_files.file_status,
        return_values.reporter_code,
        return_values.unit_code,
        return_values.element_code,
        return_values.value,
        return_values.sheet,
        return_values.source_row,
        case
            when received_files.file_status <> 'loaded' then received_files.file_status
            when admin_units.unit_code is null then 'unit_unknown'
            when admin_units.valid_from > cycles.last_day
                or admin_units.valid_to < cycles.last_day then 'unit_not_in_force'
            when communes_expected.unit_code is null then 'out_of_scope'
            when counted.unit_code is null then 'element_unknown'
        end as reason_code

    from return_values
    inner join file_of_content as received_files
        on return_values.file_sha256 = received_files.file_sha256
        and return_values.cycle = received_files.cycle
    inner join cycles
        on return_values.cycle = cycles.cycle
    left join admin_units
        on admin_units.hierarchy = cycles.hierarchy
        and admin_units.unit_code = return_values.unit_code
    -- one row or none each (their primary keys): no figure is repeated
    left join communes_expected
        on return_values.cycle = communes_expected.cycle
        and return_values.unit_code = communes_expected.unit_code
    left join counted
        on return_values.cycle = counted.cycle
        and return_values.unit_code = counted.unit_code
        and return_values.element_code = counted.element_code

),

final as (

    select
        *,
        case reason_code
            when 'superseded' then 'Tệp đã được thay bằng báo cáo sau'
            when 'duplicate' then 'Tệp trùng với tệp đã nhận'
            when 'rejected' then 'Tệp bị từ chối'
            when 'unit_unknown' then 'Mã xã không có trong danh mục của kỳ'
            when 'unit_not_in_force' then 'Xã không còn hiệu lực vào ngày cuối kỳ'
            when 'out_of_scope' then 'Xã ngoài phạm vi thu thập (scope.csv)'
            else 'Chỉ tiêu không có trong danh mục'
        end as reason_vi,
        case reason_code
            when 'superseded' then 'the file was replaced by a later return'
            when 'duplicate' then 'the file repeats one already received'
            when 'rejected' then 'the file was rejected'
            when 'unit_unknown' then 'the commune code is not in the cycle''s hierarchy'
            when 'unit_not_in_force' then 'the commune was not in force on the cycle''s last day'
            when 'out_of_scope' then 'the commune is outside the collection scope (scope.csv)'
            else 'the data element is not in the list'
        end as reason_en

    from figures
    where reason_code is not null

)

select * from final
