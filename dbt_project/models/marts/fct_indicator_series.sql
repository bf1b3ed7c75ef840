{{ config(materialized='view') }}
-- The analyst's one table of series: every unit's indicator values as reported
-- (fct_indicator_values) and, under the next hierarchy version, each earlier cycle's values
-- carried onto its units (fct_indicator_values_carried). A series of one of today's units
-- is `where hierarchy = <today's version> and unit_level = ... and unit_code = ...`: one row
-- per cycle, carried before the reform and as reported after it. A view: it shows what the
-- two facts hold, whatever a build rebuilt.
with

as_reported as (

    select * from {{ ref('fct_indicator_values') }}

),

carried as (

    select * from {{ ref('fct_indicator_values_carried') }}

),

{%- set columns = 'cycle, hierarchy, unit_level, unit_code, unit_name_vi, district_code, province_code, indicator_code, indicator_name_vi, indicator_name_en, value_unit, numerator, denominator, value, communes_included, communes_in_force, coverage_pct, previous_comparable_cycle, previous_value, value_change' %}

final as (

    select
        {{ columns }},
        {{ dbt.cast("'as_reported'", dbt.type_string()) }} as series_basis,
        hierarchy as source_hierarchy,
        false as includes_divided_commune
    from as_reported
    union all
    select
        {{ columns }},
        {{ dbt.cast("'carried_across_reform'", dbt.type_string()) }} as series_basis,
        source_hierarchy,
        includes_divided_commune
    from carried

)

select * from final
