-- Every province, district and commune of both hierarchies. A code only names a unit together
-- with its hierarchy: the reform reused codes with other meanings.
with

admin_units as (

    select * from {{ ref('stg_reference__admin_units') }}

),

scoped_units as (

    select * from {{ ref('int_admin_units_scoped') }}

),

districts as (

    select hierarchy, unit_code, name_vi from admin_units where unit_level = 'district'

),

provinces as (

    select hierarchy, unit_code, name_vi from admin_units where unit_level = 'province'

),

final as (

    select
        admin_units.hierarchy,
        admin_units.unit_level,
        admin_units.unit_code,
        admin_units.name_vi,
        admin_units.name_ascii,
        admin_units.unit_type_vi,
        admin_units.area_type,
        admin_units.parent_code,
        admin_units.district_code,
        districts.name_vi as district_name_vi,
        admin_units.province_code,
        provinces.name_vi as province_name_vi,
        admin_units.valid_from,
        admin_units.valid_to,
        scoped_units.unit_code is not null as is_in_scope,
        coalesce(scoped_units.communes_in_scope, 0) as communes_in_scope

    from admin_units
    left join districts
        on admin_units.hierarchy = districts.hierarchy
        and admin_units.district_code = districts.unit_code
    left join provinces
        on admin_units.hierarchy = provinces.hierarchy
        and admin_units.province_code = provinces.unit_code
    left join scoped_units
        on admin_units.hierarchy = scoped_units.hierarchy
        and admin_units.unit_level = scoped_units.unit_level
        and admin_units.unit_code = scoped_units.unit_code

)

select * from final
