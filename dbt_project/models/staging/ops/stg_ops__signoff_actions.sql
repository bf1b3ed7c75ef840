with

source as (

    select * from {{ source('ops', 'signoff_actions') }}

),

renamed as (

    select
        action_id,
        cycle,
        unit_level,
        unit_code,
        action,
        subject,
        actor,
        via,
        comment,
        {{ dbt.cast('revision', dbt.type_int()) }} as revision,
        recorded_at

    from source

)

select * from renamed
