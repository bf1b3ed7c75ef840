{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true}) }}
-- The target that applies to each unit, indicator and cycle: the unit's own plan target when
-- one applies, else the national milestone the cycle's year leads up to (domain README, "Rules
-- for targets").
-- Plan: a district plan's targets apply to its district (read in the cycle's hierarchy, so only
-- before the reform) and to that district's communes, for the cycles of the plan's year.
-- National (Decision 23/QĐ-TTg, seed national_targets): a cycle's milestone is the first
-- milestone year at or after its year (up to 2025: 2025; 2026-2030: 2030; none after the last);
-- it applies to the country, every province, and every district and commune in force without a
-- plan target for that indicator; an indicator the decision sets no figure for at that milestone
-- has none.
-- A commune gets the targets for `all` and for its own area type (CT04c: rural or urban); a
-- district, province or the country gets every scope, judged on its communes of each area type
-- (int_plan_targets_judged).
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}
    where {{ cycle_filter('cycle') }}

),

plan_targets as (

    select * from {{ ref('stg_reference__plan_targets') }}

),

national_targets as (

    select * from {{ ref('stg_reference__national_targets') }}

),

scoped_units as (

    select * from {{ ref('int_admin_units_scoped') }}
    where {{ province_filter('province_code') }}

),

plan_cycles as (

    select
        cycles.cycle,
        cycles.hierarchy,
        cycles.is_annual,
        plan_targets.*

    from plan_targets
    inner join cycles
        on plan_targets.plan_year = cycles.cycle_year

),

plan_units as (

    -- the plan's own unit
    select
        plan_cycles.*,
        scoped_units.unit_level,
        scoped_units.unit_code,
        scoped_units.province_code

    from plan_cycles
    inner join scoped_units
        on plan_cycles.hierarchy = scoped_units.hierarchy
        and plan_cycles.plan_unit_code = scoped_units.unit_code
        and scoped_units.unit_level = 'district'

),

plan_communes as (

    select
        plan_cycles.*,
        scoped_units.unit_level,
        scoped_units.unit_code,
        scoped_units.province_code

    from plan_cycles
    inner join scoped_units
        on plan_cycles.hierarchy = scoped_units.hierarchy
        and plan_cycles.plan_unit_code = scoped_units.district_code
        and scoped_units.unit_level = 'commune'
    where plan_cycles.target_scope = 'all' or plan_cycles.target_scope = scoped_units.area_type

),

planned as (

    -- the plan's own unit and its communes
    select
        cycle,
        hierarchy,
        is_annual,
        unit_level,
        unit_code,
        province_code,
        indicator_code,
        target_scope,
        {{ dbt.cast("'plan'", dbt.type_string()) }} as target_source,
        plan_id,
        plan_unit_code,
        plan_year as target_year,
        target_comparator,
        target_value,
        target_text,
        {{ dbt.cast('null', dbt.type_string()) }} as target_note_vi,
        {{ dbt.cast('null', dbt.type_string()) }} as target_note_en

    from (
        select * from plan_units
        union all
        select * from plan_communes
    ) as plan_unit_targets

),

milestone_years as (

    select distinct milestone_year from national_targets

),

milestones as (

    -- the milestone each cycle's year leads up to
    select
        cycles.cycle,
        min(milestone_years.milestone_year) as milestone_year

    from cycles
    inner join milestone_years
        on cycles.cycle_year <= milestone_years.milestone_year
    group by cycles.cycle

),

units as (

    -- the units in force on the cycle's last day, and the country
    select
        cycles.cycle,
        cycles.hierarchy,
        cycles.is_annual,
        scoped_units.unit_level,
        scoped_units.unit_code,
        scoped_units.province_code,
        scoped_units.area_type

    from cycles
    inner join scoped_units
        on cycles.hierarchy = scoped_units.hierarchy
        and scoped_units.valid_from <= cycles.last_day
        and (scoped_units.valid_to is null or scoped_units.valid_to >= cycles.last_day)
    union all
    select
        cycle,
        hierarchy,
        is_annual,
        {{ dbt.cast("'country'", dbt.type_string()) }} as unit_level,
        {{ dbt.cast("'" ~ country_unit().code ~ "'", dbt.type_string()) }} as unit_code,
        {{ dbt.cast('null', dbt.type_string()) }} as province_code,
        {{ dbt.cast('null', dbt.type_string()) }} as area_type

    from cycles

),

national as (

    select
        units.cycle,
        units.hierarchy,
        units.is_annual,
        units.unit_level,
        units.unit_code,
        units.province_code,
        national_targets.indicator_code,
        national_targets.target_scope,
        {{ dbt.cast("'national'", dbt.type_string()) }} as target_source,
        {{ dbt.cast('null', dbt.type_string()) }} as plan_id,
        {{ dbt.cast('null', dbt.type_string()) }} as plan_unit_code,
        national_targets.milestone_year as target_year,
        national_targets.target_comparator,
        national_targets.target_value,
        national_targets.target_text,
        national_targets.target_note_vi,
        national_targets.target_note_en

    from units
    inner join milestones
        on units.cycle = milestones.cycle
    inner join national_targets
        on milestones.milestone_year = national_targets.milestone_year
    left join planned
        on units.cycle = planned.cycle
        and units.unit_level = planned.unit_level
        and units.unit_code = planned.unit_code
        and national_targets.indicator_code = planned.indicator_code
    -- a plan target wins for its unit and indicator
    where
        planned.unit_code is null
        and (
            units.unit_level <> 'commune'
            or national_targets.target_scope = 'all'
            or national_targets.target_scope = units.area_type
        )

),

unioned as (

    select * from planned
    union all
    select * from national

),

final as (

    select
        cycle,
        hierarchy,
        unit_level,
        unit_code,
        province_code,
        indicator_code,
        target_scope,
        target_source,
        plan_id,
        plan_unit_code,
        target_year,
        target_comparator,
        target_value,
        target_text,
        target_note_vi,
        target_note_en,
        is_annual

    from unioned

)

select * from final
