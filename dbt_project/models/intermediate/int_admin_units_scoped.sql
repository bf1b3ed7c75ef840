-- The units this deployment collects from, per hierarchy: the communes in scope (all of them
-- when raw.reporting_scope is empty; else those listed, or whose district or province is
-- listed) and the districts and provinces that hold them.
with

admin_units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

scope_units as (

    select * from {{ ref('stg_raw__scope_units') }}

),

scope_size as (

    select count(*) as scope_units from scope_units

),

communes as (

    select * from admin_units where unit_level = 'commune'

),

scoped_communes as (

    select communes.*
    from communes
    cross join scope_size  -- one row
    where
        scope_size.scope_units = 0
        or exists (
            select 1
            from scope_units
            where
                scope_units.hierarchy = communes.hierarchy
                and scope_units.unit_code in (communes.unit_code, communes.district_code, communes.province_code)
        )

),

district_counts as (

    select hierarchy, district_code, count(*) as communes_in_scope
    from scoped_communes
    where district_code is not null
    group by hierarchy, district_code

),

province_counts as (

    select hierarchy, province_code, count(*) as communes_in_scope
    from scoped_communes
    group by hierarchy, province_code

),

districts_in_scope as (

    select admin_units.*, district_counts.communes_in_scope
    from admin_units
    inner join district_counts
        on admin_units.hierarchy = district_counts.hierarchy
        and admin_units.unit_code = district_counts.district_code
    where admin_units.unit_level = 'district'

),

provinces_in_scope as (

    select admin_units.*, province_counts.communes_in_scope
    from admin_units
    inner join province_counts
        on admin_units.hierarchy = province_counts.hierarchy
        and admin_units.unit_code = province_counts.province_code
    where admin_units.unit_level = 'province'

),

unioned as (

    select scoped_communes.*, 1 as communes_in_scope from scoped_communes
    union all
    select * from districts_in_scope
    union all
    select * from provinces_in_scope

),

final as (

    select
        hierarchy,
        unit_level,
        unit_code,
        district_code,
        province_code,
        area_type,
        valid_from,
        valid_to,
        communes_in_scope

    from unioned

)

select * from final
