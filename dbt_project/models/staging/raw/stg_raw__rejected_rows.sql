with

source as (

    select * from {{ source('raw', 'rejected_rows') }}

),

renamed as (

    select
        file_sha256,
        cycle,
        file_name,
        reporter_code,
        sheet,
        source_row,
        unit_code,
        element_code,
        value_text,
        reason_code,
        reason_vi,
        reason_en

    from source

)

select * from renamed
