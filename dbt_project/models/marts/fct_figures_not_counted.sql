{{ config(materialized='view') }}
-- Every figure of the raw layer that no commune-level row of fct_element_values counts, with
-- the reason: with fct_element_values it accounts for every row of raw.return_values (a test
-- checks it). A view: it costs a build nothing and always matches the tables it reads.
with

return_values as (

    select * from {{ ref('stg_raw__return_values') }}

),

received_files as (

    select * from {{ ref('stg_raw__received_files') }}

),

-- A file's figures are stored once per content (sha256): when the same bytes came again under
-- another name (a `duplicate`), they are the figures of the record that counts most.
file_of_content as (

    select
        *,
        row_number() over (
            partition by cycle, file_sha256
            order by
                case file_status
                    when 'loaded' then 1 when 'superseded' then 2 when 'rejected' then 3 else 4
                end,
                received_at,
                file_name
        ) as rank_in_content

    from received_files

),

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

admin_units as (

    select * from {{ ref('stg_reference__admin_units') }}
    where unit_level = 'commune'

),

communes_expected as (

    select * from {{ ref('int_communes_expected') }}

),

counted as (

    select cycle, unit_code, element_code
    from {{ ref('fct_element_values') }}
    where unit_level = 'commune'

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
        and received_files.rank_in_content = 1
    inner join cycles
        on return_values.cycle = cycles.cycle
    left join admin_units
        on admin_units.hierarchy = cycles.hierarchy
        and admin_units.unit_code = return_values.unit_code
    left join communes_expected
        on communes_expected.cycle = return_values.cycle
        and communes_expected.unit_code = return_values.unit_code
    left join counted
        on counted.cycle = return_values.cycle
        and counted.unit_code = return_values.unit_code
        and counted.element_code = return_values.element_code

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
