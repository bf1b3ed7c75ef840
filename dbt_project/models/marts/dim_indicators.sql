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
        numerator_element,
        denominator_element,
        aggregation,
        factor,
        value_unit,
        better

    from indicators

)

select * from final
