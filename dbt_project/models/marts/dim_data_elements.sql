with

data_elements as (

    select * from {{ ref('stg_reference__data_elements') }}

),

final as (

    select
        element_code,
        reported_by,
        reporter_kind,
        element_kind,
        name_vi,
        name_en,
        is_sensitive

    from data_elements

)

select * from final
