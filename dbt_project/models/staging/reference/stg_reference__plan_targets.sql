with

source as (

    select * from {{ ref('plan_targets') }}

),

renamed as (

    select
        plan_id,
        source_document,
        unit_code as plan_unit_code,
        unit_name as plan_unit_name,
        {{ dbt.cast('year', dbt.type_int()) }} as plan_year,
        indicator_code,
        comparator as target_comparator,
        {{ dbt.cast('target_value', type_double()) }} as target_value,
        scope as target_scope,
        target_text

    from source

)

select * from renamed
