with

source as (

    select * from {{ ref('admin_units') }}

),

renamed as (

    select
        hierarchy,
        unit_level,
        unit_code,
        name_vi,
        name_ascii,
        unit_type_vi,
        area_type,
        district_code,
        province_code,
        parent_code,
        valid_from,
        valid_to

    from source

)

select * from renamed
