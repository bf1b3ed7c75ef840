-- Every cycle the raw layer holds a file for, with its dates and the hierarchy version in force
-- on its last day (seed hierarchies; core/hierarchies.py reads the same seed). A cycle before
-- the first version has none and is left out.
with

received_files as (

    select * from {{ ref('stg_raw__received_files') }}

),

hierarchies as (

    select * from {{ ref('stg_reference__hierarchies') }}

),

cycles as (

    select distinct cycle from received_files

),

parts as (

    select
        cycle,
        {{ dbt.split_part('cycle', "'-'", 1) }} as year_text,
        {{ dbt.split_part('cycle', "'-'", 2) }} as cycle_kind

    from cycles

),

dated as (

    select
        cycle,
        {{ dbt.cast('year_text', dbt.type_int()) }} as cycle_year,
        cycle_kind,
        cycle_kind = 'Y' as is_annual,
        {{ dbt.cast(dbt.concat(['year_text', "'-01-01'"]), 'date') }} as first_day,
        {{ dbt.cast(dbt.concat(['year_text', "case when cycle_kind = 'H1' then '-06-30' else '-12-31' end"]), 'date') }} as last_day,
        {{ dbt.concat([dbt.cast(dbt.cast('year_text', dbt.type_int()) ~ ' - 1', dbt.type_string()), "'-'", 'cycle_kind']) }} as previous_comparable_cycle

    from parts

),

final as (

    select
        dated.cycle,
        dated.cycle_year,
        dated.cycle_kind,
        dated.is_annual,
        dated.first_day,
        dated.last_day,
        hierarchies.hierarchy,
        hierarchies.agency_level,
        dated.previous_comparable_cycle

    from dated
    inner join hierarchies
        on hierarchies.valid_from <= dated.last_day
        and (hierarchies.valid_to is null or hierarchies.valid_to >= dated.last_day)

)

select * from final
