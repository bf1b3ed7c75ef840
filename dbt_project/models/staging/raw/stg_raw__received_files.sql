with

source as (

    select * from {{ source('raw', 'received_files') }}

),

renamed as (

    select
        cycle,
        file_name,
        file_sha256,
        file_format,
        reporter_code,
        reporter_name,
        status as file_status,
        reason_code,
        reason_en,
        submitted_on,
        received_at,
        {{ dbt.cast('received_at', 'date') }} as received_on,
        -- the date a return counts as delivered: its own date, else the day it arrived
        coalesce(submitted_on, {{ dbt.cast('received_at', 'date') }}) as delivered_on,
        {{ dbt.cast('rows_total', dbt.type_int()) }} as rows_total,
        {{ dbt.cast('rows_loaded', dbt.type_int()) }} as rows_loaded,
        {{ dbt.cast('rows_rejected', dbt.type_int()) }} as rows_rejected,
        {{ dbt.cast('rows_blank', dbt.type_int()) }} as rows_blank

    from source

)

select * from renamed
