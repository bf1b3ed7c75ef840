with

source as (

    select * from {{ ref('commune_successions') }}

),

renamed as (

    select
        hierarchy,
        old_commune_code,
        new_commune_code,
        new_province_code,
        old_commune_divided,
        is_main_successor

    from source

)

select * from renamed
