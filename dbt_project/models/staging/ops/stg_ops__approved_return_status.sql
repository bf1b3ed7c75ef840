with

source as (

    select * from {{ source('ops', 'approved_return_status') }}

),

renamed as (

    select
        {{ dbt.cast('revision', dbt.type_int()) }} as revision,
        signed_unit_level,
        signed_unit_code,
        approved_at,
        cycle,
        reporter_code,
        reporter_kind,
        received,
        current_file_name,
        current_file_sha256

    from source

)

select * from renamed
