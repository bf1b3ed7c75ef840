with

source as (

    select * from {{ source('raw', 'reporting_scope') }}

),

renamed as (

    select
        hierarchy,
        unit_code

    from source

)

select * from renamed
