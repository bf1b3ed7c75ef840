-- Each commune of a hierarchy version mapped to its main successor in the next version (seed
-- commune_successions; the version before is found by date, never named): the unit its figures
-- are carried to across a reform. A divided old commune goes whole to its main successor, so
-- every new commune that took all or part of a divided one carries approximate figures
-- (`new_commune_includes_divided`); no old commune spans two new provinces, so provinces are
-- exact. `new_commune_predecessors` counts the old communes carried to the new commune: its
-- carried value is complete when every one of them reported.
with

successions as (

    select * from {{ ref('stg_reference__commune_successions') }}

),

hierarchies as (

    select * from {{ ref('stg_reference__hierarchies') }}

),

versions as (

    select
        hierarchy,
        lag(hierarchy) over (order by valid_from) as previous_hierarchy

    from hierarchies

),

main_successors as (

    select * from successions where is_main_successor

),

predecessors as (

    select
        hierarchy,
        new_commune_code,
        count(*) as new_commune_predecessors

    from main_successors
    group by hierarchy, new_commune_code

),

divided_parts as (

    -- new communes that took all or part of a divided old commune
    select distinct
        hierarchy,
        new_commune_code

    from successions
    where old_commune_divided

),

final as (

    select
        main_successors.hierarchy,
        versions.previous_hierarchy,
        main_successors.old_commune_code,
        main_successors.new_commune_code,
        main_successors.new_province_code,
        main_successors.old_commune_divided,
        {{ dbt.cast('predecessors.new_commune_predecessors', dbt.type_int()) }} as new_commune_predecessors,
        divided_parts.new_commune_code is not null as new_commune_includes_divided

    from main_successors
    inner join versions
        on main_successors.hierarchy = versions.hierarchy
    inner join predecessors
        on main_successors.hierarchy = predecessors.hierarchy
        and main_successors.new_commune_code = predecessors.new_commune_code
    left join divided_parts
        on main_successors.hierarchy = divided_parts.hierarchy
        and main_successors.new_commune_code = divided_parts.new_commune_code
    where versions.previous_hierarchy is not null

)

select * from final
