{{ config(materialized='view') }}
-- Each unit's indicator series, one row per cycle: as reported for now. The rows carried
-- across the reform onto today's units (series_basis = 'carried_across_reform') come with the
-- successions (issue 14, branch `reform`); until then every row is a unit's own row of
-- fct_indicator_values in its cycle's hierarchy.
with

indicator_values as (

    select * from {{ ref('fct_indicator_values') }}

),

final as (

    select
        cycle,
        hierarchy,
        unit_level,
        unit_code,
        unit_name_vi,
        province_code,
        indicator_code,
        value_unit,
        numerator,
        denominator,
        value,
        communes_included,
        communes_in_force,
        coverage_pct,
        {{ dbt.cast("'as_reported'", dbt.type_string()) }} as series_basis,
        false as includes_divided_commune

    from indicator_values

)

select * from final
