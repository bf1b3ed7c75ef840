{{ config(materialized='incremental', incremental_strategy='replace_cycles', on_schema_change='fail', meta={'rebuild_by_province': true, 'rebuild_later_cycles': true}) }}
-- Each expected commune's figure of each element beside its own history: the values of the
-- earlier cycles of the same kind (H1 with H1, Y with Y) in the same hierarchy, by code, that
-- have a value. Across a reform a code can mean another place: a commune's history before its
-- hierarchy began is its predecessors' figures carried onto it (int_commune_successions_mapped:
-- every old commune whose main successor it is), summed, and only when every one of them
-- reported (a partial sum would look like a fall); `history_is_carried` says when the history
-- holds such values. An uncorrected earlier figure stays in the history, as in the WHO
-- Data Quality Review. From it: the median and the MAD (floored at 10% of the median and at 1),
-- the modified z-score, and the mean of the three most recent values (expectations/README.md).
-- Every later cycle of the kind holds a cycle in its history, so rebuilding a cycle rebuilds
-- them too (meta rebuild_later_cycles; across a reform cycle/transform.py rebuilds the next
-- comparable cycle, hence the later ones, in the successor provinces).
with

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

element_values as (

    select * from {{ ref('int_element_values_expected') }}

),

successions as (

    select * from {{ ref('int_commune_successions_mapped') }}

),

current_values as (

    select
        element_values.cycle,
        element_values.hierarchy,
        element_values.unit_code,
        element_values.district_code,
        element_values.province_code,
        element_values.element_code,
        element_values.value,
        element_values.reporter_code,
        cycles.cycle_kind,
        cycles.cycle_year

    from element_values
    inner join cycles
        on element_values.cycle = cycles.cycle
    where {{ cycle_filter('element_values.cycle', with_later=true, province_column='element_values.province_code') }}

),

carried_values as (

    -- the version before's figures summed onto its successor communes, where every old
    -- commune carried to the new one reported (in scope or not: one out of scope never does)
    select
        element_values.cycle,
        successions.hierarchy,
        successions.new_commune_code as unit_code,
        element_values.element_code,
        sum(element_values.value) as value

    from element_values
    inner join successions
        on element_values.hierarchy = successions.previous_hierarchy
        and element_values.unit_code = successions.old_commune_code
    where {{ province_filter('successions.new_province_code') }}
    group by
        element_values.cycle,
        successions.hierarchy,
        successions.new_commune_code,
        element_values.element_code
    having count(element_values.value) = max(successions.new_commune_predecessors)

),

earlier_values as (

    -- every cycle's figures: the history of the cycles built in this run
    select
        element_values.hierarchy,
        element_values.unit_code,
        element_values.element_code,
        element_values.value,
        false as is_carried,
        cycles.cycle_kind,
        cycles.cycle_year

    from element_values
    inner join cycles
        on element_values.cycle = cycles.cycle
    where element_values.value is not null
        and {{ province_filter('element_values.province_code') }}

    union all

    select
        carried_values.hierarchy,
        carried_values.unit_code,
        carried_values.element_code,
        carried_values.value,
        true as is_carried,
        cycles.cycle_kind,
        cycles.cycle_year

    from carried_values
    inner join cycles
        on carried_values.cycle = cycles.cycle

),

history as (

    select
        current_values.cycle,
        current_values.unit_code,
        current_values.element_code,
        earlier_values.cycle_year as earlier_year,
        {{ dbt.cast('earlier_values.value', type_double()) }} as earlier_value,
        earlier_values.is_carried

    from current_values
    inner join earlier_values
        on current_values.hierarchy = earlier_values.hierarchy
        and current_values.cycle_kind = earlier_values.cycle_kind
        and current_values.unit_code = earlier_values.unit_code
        and current_values.element_code = earlier_values.element_code
        and earlier_values.cycle_year < current_values.cycle_year

),

medians as (

    select
        cycle,
        unit_code,
        element_code,
        count(*) as history_cycles,
        sum(case when is_carried then 1 else 0 end) as carried_cycles,
        {{ median('earlier_value') }} as history_median

    from history
    group by cycle, unit_code, element_code

),

deviations as (

    select
        history.cycle,
        history.unit_code,
        history.element_code,
        history.earlier_value,
        medians.history_cycles,
        medians.carried_cycles,
        medians.history_median,
        abs(history.earlier_value - medians.history_median) as deviation,
        row_number() over (
            partition by history.cycle, history.unit_code, history.element_code
            order by history.earlier_year desc
        ) as recency

    from history
    inner join medians
        on history.cycle = medians.cycle
        and history.unit_code = medians.unit_code
        and history.element_code = medians.element_code

),

spreads as (

    select
        cycle,
        unit_code,
        element_code,
        history_cycles,
        carried_cycles,
        history_median,
        {{ median('deviation') }} as history_mad,
        -- the three most recent earlier values; null with fewer than three
        case
            when history_cycles >= 3 then avg(case when recency <= 3 then earlier_value end)
        end as mean3

    from deviations
    group by cycle, unit_code, element_code, history_cycles, carried_cycles, history_median

),

measured as (

    select
        current_values.*,
        coalesce(spreads.history_cycles, 0) as history_cycles,
        coalesce(spreads.carried_cycles, 0) > 0 as history_is_carried,
        spreads.history_median,
        spreads.history_mad,
        spreads.mean3

    from current_values
    left join spreads
        on current_values.cycle = spreads.cycle
        and current_values.unit_code = spreads.unit_code
        and current_values.element_code = spreads.element_code

),

final as (

    select
        cycle,
        hierarchy,
        unit_code,
        district_code,
        province_code,
        element_code,
        value,
        reporter_code,
        {{ dbt.cast('history_cycles', dbt.type_int()) }} as history_cycles,
        history_is_carried,
        history_median,
        history_mad,
        case
            when value is null or history_median is null then null
            -- the MAD floored at 10% of the median and at 1: with three or four earlier
            -- values it is tiny by chance (expectations/README.md)
            else 0.6745 * (value - history_median)
                / greatest(history_mad, 0.10 * abs(history_median), 1.0)
        end as modified_z,
        mean3,
        case
            when value is null or mean3 is null or mean3 = 0 then null
            else {{ dbt.cast('value', type_double()) }} / mean3
        end as ratio_to_mean3

    from measured

)

select * from final
