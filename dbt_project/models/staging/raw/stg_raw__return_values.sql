with

source as (

    select * from {{ source('raw', 'return_values') }}

),

renamed as (

    select
        file_sha256,
        cycle,
        reporter_code,
        unit_code,
        element_code,
        {{ dbt.cast('value', dbt.type_bigint()) }} as value,
        sheet,
        source_row,
        note

    from source

)

select * from renamed
