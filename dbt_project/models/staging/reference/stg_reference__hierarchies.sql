with

source as (

    select * from {{ ref('hierarchies') }}

),

renamed as (

    select
        hierarchy,
        valid_from,
        valid_to,
        levels,
        agency_level,
        label_vi,
        label_en

    from source

)

select * from renamed
