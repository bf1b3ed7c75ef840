-- The communes expected to report in each cycle: in force on the cycle's last day in the
-- cycle's hierarchy, and in scope.
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

scoped_units as (

    select * from {{ ref('int_admin_units_scoped') }}

),

communes as (

    select * from scoped_units where unit_level = 'commune'

),

final as (

    select
        cycles.cycle,
        cycles.hierarchy,
        communes.unit_code,
        communes.district_code,
        communes.province_code,
        communes.area_type

    from cycles
    inner join communes
        on communes.hierarchy = cycles.hierarchy
        and communes.valid_from <= cycles.last_day
        and (communes.valid_to is null or communes.valid_to >= cycles.last_day)

)

select * from final
