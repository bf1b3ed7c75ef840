with

source as (

    select * from {{ ref('indicators') }}

),

renamed as (

    select
        indicator_code,
        {{ dbt.cast('goal', dbt.type_int()) }} as goal,
        lead_agency,
        numerator as numerator_element,
        -- `@communes`: the denominator is the number of communes that reported the flag
        case when denominator = '@communes' then null else denominator end as denominator_element,
        case
            when denominator = '@communes' then 'share_of_communes'
            when denominator is null or denominator = '' then 'count'
            else 'ratio'
        end as aggregation,
        {{ dbt.cast('factor', dbt.type_bigint()) }} as factor,
        unit as value_unit,
        better,
        name_vi,
        name_en

    from source

)

select * from renamed
