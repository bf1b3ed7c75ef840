with

source as (

    select * from {{ ref('reporting_calendar') }}

),

renamed as (

    select
        plan_id,
        source_document,
        unit_code as plan_unit_code,
        unit_name as plan_unit_name,
        -- plan ids end in the plan's year (`tamduong-2020`)
        {{ dbt.cast(dbt.right('plan_id', 4), dbt.type_int()) }} as plan_year,
        cycle as cycle_kind,
        reporter_level,
        due_date as due_month_day,
        receiver,
        text as deadline_text

    from source

)

select * from renamed
