-- Every cycle the raw layer holds a file for, with its dates and the hierarchy in force on its
-- last day.
with

received_files as (

    select * from {{ ref('stg_raw__received_files') }}

),

cycles as (

    select distinct cycle from received_files

),

parts as (

    select
        cycle,
        {{ dbt.split_part('cycle', "'-'", 1) }} as year_text,
        {{ dbt.split_part('cycle', "'-'", 2) }} as cycle_kind

    from cycles

),

dated as (

    select
        cycle,
        {{ dbt.cast('year_text', dbt.type_int()) }} as cycle_year,
        cycle_kind,
        cycle_kind = 'Y' as is_annual,
        {{ dbt.cast(dbt.concat(['year_text', "'-01-01'"]), 'date') }} as first_day,
        {{ dbt.cast(dbt.concat(['year_text', "case when cycle_kind = 'H1' then '-06-30' else '-12-31' end"]), 'date') }} as last_day,
        {{ dbt.concat([dbt.cast(dbt.cast('year_text', dbt.type_int()) ~ ' - 1', dbt.type_string()), "'-'", 'cycle_kind']) }} as previous_comparable_cycle

    from parts

),

final as (

    select
        cycle,
        cycle_year,
        cycle_kind,
        is_annual,
        first_day,
        last_day,
        case
            when last_day < {{ dbt.cast("'" ~ var('reform_date') ~ "'", 'date') }} then 'pre_reform'
            else 'post_reform'
        end as hierarchy,
        previous_comparable_cycle

    from dated

)

select * from final
