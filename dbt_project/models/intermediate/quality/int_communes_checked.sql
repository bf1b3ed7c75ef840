{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- Check-ready (expectations suite `commune_checks`): one row per expected commune, with its
-- figures from every reporter side by side, one column per data element (seed data_elements;
-- null when its reporter's loaded return does not carry it), the reporters expected to send
-- them, and the cross-source ratio u5_weighed / pop_under5.
{%- set element_codes = data_element_codes() %}
with

element_values as (

    select * from {{ ref('int_element_values_history') }}
    where {{ cycle_filter('cycle', province_column='province_code') }}

),

data_elements as (

    -- the columns below are read from it when the model runs (macro data_element_codes)
    select * from {{ ref('stg_reference__data_elements') }}

),

admin_units as (

    select * from {{ ref('stg_reference__admin_units') }}
    where unit_level = 'commune'

),

-- The columns are generated per element (one per seed row): sqlfluff renders the loops
-- with no element before the seeds exist and then misreads their indentation.
-- noqa: disable=LT02
pivoted as (

    select
        element_values.cycle,
        element_values.hierarchy,
        element_values.unit_code,
        element_values.district_code,
        element_values.province_code
        {%- for code in element_codes %},
        {{ dbt.cast('max(case when element_values.element_code = \'' ~ code ~ '\' then element_values.value end)', type_double()) }} as {{ code }}
        {%- endfor %}

    from element_values
    inner join data_elements
        on element_values.element_code = data_elements.element_code
    group by
        element_values.cycle,
        element_values.hierarchy,
        element_values.unit_code,
        element_values.district_code,
        element_values.province_code

),

final as (

    select
        pivoted.cycle,
        pivoted.hierarchy,
        pivoted.unit_code,
        'commune' as unit_level,
        admin_units.name_vi as unit_name,
        pivoted.district_code,
        pivoted.province_code,
        pivoted.unit_code as commune_reporter_code,
        {%- for agency in ['health', 'education', 'police'] %}
        {{ expected_reporter_code("'" ~ agency ~ "'", 'pivoted.unit_code', 'admin_units.parent_code') }} as {{ agency }}_reporter_code,
        {%- endfor %}
        {%- for code in element_codes %}
        pivoted.{{ code }},
        {%- endfor %}
        case
            when pivoted.u5_weighed is null or pivoted.pop_under5 is null then null
            else pivoted.u5_weighed / greatest(pivoted.pop_under5, 1.0)
        end as u5_weighed_per_pop_under5

    from pivoted
    inner join admin_units
        on pivoted.hierarchy = admin_units.hierarchy
        and pivoted.unit_code = admin_units.unit_code

)

-- noqa: enable=LT02
select * from final
