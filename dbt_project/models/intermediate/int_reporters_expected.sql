-- Every reporter expected in a cycle, with its deadline: each expected commune, and the
-- health, education and police agencies of each district (after the reform: each province)
-- holding an expected commune. The deadline is the plan's where one applies
-- (reporting_calendar.csv rows for communes and agencies: to the plan's district, for cycles of
-- that kind, from the plan's year until a later plan of the district sets one for the kind;
-- districts exist only before the reform), else the configured default. core/calendar.py
-- applies the same rule in Python.
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

communes as (

    select * from {{ ref('int_communes_expected') }}

),

deadlines as (

    select * from {{ ref('stg_reference__reporting_deadlines') }}

),

agencies as (

    select 'health' as agency union all
    select 'education' as agency union all
    select 'police' as agency

),

commune_reporters as (

    select
        cycle,
        hierarchy,
        unit_code as reporter_code,
        'commune' as reporter_kind,
        {{ dbt.cast('null', dbt.type_string()) }} as agency,
        'commune' as unit_level,
        unit_code,
        district_code,
        province_code

    from communes

),

agency_units as (

    -- the units of the version's agency level (seed hierarchies) that hold an expected commune
    select distinct
        communes.cycle,
        communes.hierarchy,
        cycles.agency_level as unit_level,
        case when cycles.agency_level = 'district' then communes.district_code else communes.province_code end as unit_code,
        case when cycles.agency_level = 'district' then communes.district_code end as district_code,
        communes.province_code

    from communes
    inner join cycles
        on communes.cycle = cycles.cycle

),

agency_reporters as (

    select
        agency_units.cycle,
        agency_units.hierarchy,
        {{ dbt.concat(['agency_units.unit_code', "'-'", 'agencies.agency']) }} as reporter_code,
        'agency' as reporter_kind,
        agencies.agency,
        agency_units.unit_level,
        agency_units.unit_code,
        agency_units.district_code,
        agency_units.province_code

    from agency_units
    cross join agencies  -- three agencies per district (province)

),

reporters as (

    select * from commune_reporters
    union all
    select * from agency_reporters

),

commune_deadlines as (

    select * from deadlines where reporter_level = 'commune_and_agency'

),

latest_plans as (

    -- the latest plan of a district with a deadline for the cycle's kind (in a version with
    -- districts: plans name districts)
    select
        cycles.cycle,
        commune_deadlines.plan_unit_code,
        max(commune_deadlines.plan_year) as plan_year

    from cycles
    inner join commune_deadlines
        on commune_deadlines.cycle_kind = cycles.cycle_kind
        and commune_deadlines.plan_year <= cycles.cycle_year
    where cycles.agency_level = 'district'
    group by cycles.cycle, commune_deadlines.plan_unit_code

),

plan_deadlines as (

    select
        latest_plans.cycle,
        latest_plans.plan_unit_code,
        commune_deadlines.plan_id,
        commune_deadlines.due_month_day

    from latest_plans
    inner join cycles
        on latest_plans.cycle = cycles.cycle
    inner join commune_deadlines
        on latest_plans.plan_unit_code = commune_deadlines.plan_unit_code
        and latest_plans.plan_year = commune_deadlines.plan_year
        and cycles.cycle_kind = commune_deadlines.cycle_kind

),

final as (

    select
        reporters.cycle,
        reporters.hierarchy,
        reporters.reporter_code,
        reporters.reporter_kind,
        reporters.agency,
        reporters.unit_level,
        reporters.unit_code,
        reporters.district_code,
        reporters.province_code,
        plan_deadlines.plan_id as deadline_plan_id,
        {{ dbt.cast(
            dbt.concat([
                dbt.cast('cycles.cycle_year', dbt.type_string()),
                "'-'",
                "coalesce(plan_deadlines.due_month_day, case when cycles.cycle_kind = 'H1' then '"
                    ~ var('default_deadline_h1') ~ "' else '" ~ var('default_deadline_y') ~ "' end)",
            ]),
            'date'
        ) }} as deadline

    from reporters
    inner join cycles
        on reporters.cycle = cycles.cycle
    left join plan_deadlines
        on reporters.cycle = plan_deadlines.cycle
        and reporters.district_code = plan_deadlines.plan_unit_code

)

select * from final
