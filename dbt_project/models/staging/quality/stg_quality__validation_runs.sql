with

source as (

    select * from {{ source('quality', 'validation_runs') }}

),

renamed as (

    select
        run_key,
        cycle,
        suite,
        table_name,
        success as is_success,
        {{ dbt.cast('evaluated', dbt.type_bigint()) }} as rows_evaluated,
        {{ dbt.cast('unexpected', dbt.type_bigint()) }} as rows_unexpected,
        {{ dbt.cast('findings', dbt.type_bigint()) }} as findings,
        {{ dbt.cast('expectations', dbt.type_int()) }} as expectations,
        {{ dbt.cast('expectations_failed', dbt.type_int()) }} as expectations_failed,
        data_docs_index,
        run_at as validated_at

    from source

)

select * from renamed
