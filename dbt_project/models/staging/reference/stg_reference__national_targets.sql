with

source as (

    select * from {{ ref('national_targets') }}

),

renamed as (

    select
        indicator_code,
        {{ dbt.cast('year', dbt.type_int()) }} as milestone_year,
        comparator as target_comparator,
        {{ dbt.cast('target_value', type_double()) }} as target_value,
        scope as target_scope,
        unit as target_unit,
        source_excerpt as target_text,
        source_url,
        note_vi as target_note_vi,
        note_en as target_note_en

    from source

)

select * from renamed
