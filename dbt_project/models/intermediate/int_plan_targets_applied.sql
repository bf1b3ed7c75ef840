-- The plan targets that apply to each unit in a cycle: a plan's targets apply to its unit (a
-- district, read in the cycle's hierarchy, so only before the reform) and to that unit's
-- communes, for the cycles of the plan's year. A commune gets the targets for `all` and for its
-- own area type (CT04c: rural or urban); the district gets every scope of the plan.
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

plan_targets as (

    select * from {{ ref('stg_reference__plan_targets') }}

),

scoped_units as (

    select * from {{ ref('int_admin_units_scoped') }}

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
        scoped_units.unit_code

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
        scoped_units.unit_code

    from plan_cycles
    inner join scoped_units
        on plan_cycles.hierarchy = scoped_units.hierarchy
        and plan_cycles.plan_unit_code = scoped_units.district_code
        and scoped_units.unit_level = 'commune'
    where plan_cycles.target_scope = 'all' or plan_cycles.target_scope = scoped_units.area_type

),

unioned as (

    select * from plan_units
    union all
    select * from plan_communes

),

final as (

    select
        cycle,
        hierarchy,
        unit_level,
        unit_code,
        indicator_code,
        target_scope,
        plan_id,
        plan_unit_code,
        target_comparator,
        target_value,
        target_text,
        is_annual

    from unioned

)

select * from final
