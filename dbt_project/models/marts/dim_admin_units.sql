-- Every province, district and commune of both hierarchies, and the country above them (one row
-- per hierarchy: the marts' country rows join it like any unit). A code only names a unit
-- together with its hierarchy: the reform reused codes with other meanings.
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

units as (

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
        {{ dbt.cast('coalesce(scoped_units.communes_in_scope, 0)', dbt.type_int()) }} as communes_in_scope

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

),

countries as (

    {%- set country = country_unit() %}
    select
        hierarchy,
        {{ dbt.cast("'country'", dbt.type_string()) }} as unit_level,
        {{ dbt.cast("'" ~ country.code ~ "'", dbt.type_string()) }} as unit_code,
        {{ dbt.cast("'" ~ country.name_vi ~ "'", dbt.type_string()) }} as name_vi,
        {{ dbt.cast("'" ~ country.name_ascii ~ "'", dbt.type_string()) }} as name_ascii,
        {{ dbt.cast('null', dbt.type_string()) }} as unit_type_vi,
        {{ dbt.cast('null', dbt.type_string()) }} as area_type,
        {{ dbt.cast('null', dbt.type_string()) }} as parent_code,
        {{ dbt.cast('null', dbt.type_string()) }} as district_code,
        {{ dbt.cast('null', dbt.type_string()) }} as district_name_vi,
        {{ dbt.cast('null', dbt.type_string()) }} as province_code,
        {{ dbt.cast('null', dbt.type_string()) }} as province_name_vi,
        min(valid_from) as valid_from,
        -- in force while any of its provinces is
        case when count(valid_to) = count(*) then max(valid_to) end as valid_to,
        bool_or(is_in_scope) as is_in_scope,
        {{ dbt.cast('sum(communes_in_scope)', dbt.type_int()) }} as communes_in_scope

    from units
    where unit_level = 'province'
    group by hierarchy

),

final as (

    select * from units
    union all
    select * from countries

)

select * from final
