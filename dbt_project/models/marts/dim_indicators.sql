with

indicators as (

    select * from {{ ref('stg_reference__indicators') }}

),

final as (

    select
        indicator_code,
        goal,
        lead_agency,
        name_vi,
        name_en,
        -- numerator and denominator as the seed writes them (`@communes`; null for CT13)
        numerator_element as numerator,
        case when aggregation = 'share_of_communes' then '@communes' else denominator_element end as denominator,
        aggregation,
        {{ dbt.cast('factor', dbt.type_int()) }} as factor,
        value_unit as unit,
        better

    from indicators

)

select * from final
