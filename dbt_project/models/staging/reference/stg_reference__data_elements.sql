with

source as (

    select * from {{ ref('data_elements') }}

),

renamed as (

    select
        element_code,
        reported_by,
        case when reported_by = 'commune' then 'commune' else 'agency' end as reporter_kind,
        kind as element_kind,
        name_vi,
        name_en,
        is_sensitive

    from source

)

select * from renamed
