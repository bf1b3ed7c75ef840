with

source as (

    select * from {{ source('ops', 'approved_indicator_values') }}

),

renamed as (

    select
        {{ dbt.cast('revision', dbt.type_int()) }} as revision,
        signed_unit_level,
        signed_unit_code,
        approved_at,
        cycle,
        unit_level,
        unit_code,
        indicator_code,
        numerator,
        denominator,
        value

    from source

)

select * from renamed
