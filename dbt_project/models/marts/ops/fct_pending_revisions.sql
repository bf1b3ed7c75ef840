-- What changed since each signing unit's last approved revision: the figures (value,
-- numerator, denominator of an indicator, of the unit or a unit inside it) that differ from
-- those signed, and the returns received since or whose current file (by name) is not the one
-- signed (a file replaced under the same name shows through its figures). A late return of an
-- approved unit shows here once it is built; re-approval makes a new revision and clears it.
-- A view: live over the marts and the approved revisions (ops.approved_*).
with

approved_values as (

    select * from {{ ref('stg_ops__approved_indicator_values') }}

),

approved_returns as (

    select * from {{ ref('stg_ops__approved_return_status') }}

),

-- each signing unit's last revision
signed as (

    select cycle, signed_unit_level, signed_unit_code, max(revision) as revision
    from (
        select cycle, signed_unit_level, signed_unit_code, revision from approved_values
        union all
        select cycle, signed_unit_level, signed_unit_code, revision from approved_returns
    ) as revisions
    group by cycle, signed_unit_level, signed_unit_code

),

indicator_values as (

    select
        cycle, unit_level, unit_code, district_code, province_code, indicator_code,
        numerator, denominator, value
    from {{ ref('fct_indicator_values') }}

),

-- the returns as the checks read them (fct_return_status's receipt and current file)
return_status as (

    select
        cycle,
        reporter_code,
        case when reporter_role = 'commune' then 'commune' else 'agency' end as reporter_kind,
        district_code,
        province_code,
        is_received as received,
        current_file_name
    from {{ ref('int_returns_checked') }}

),

-- the unit's rows as they are now: its own and those inside it (as approving copies them)
current_values as (

    {{ rows_of_signed_units('signed', 'indicator_values') }}

),

current_returns as (

    {{ rows_of_signed_units('signed', 'return_status') }}

),

values_signed as (

    select approved_values.*
    from approved_values
    inner join signed
        on approved_values.cycle = signed.cycle
        and approved_values.signed_unit_level = signed.signed_unit_level
        and approved_values.signed_unit_code = signed.signed_unit_code
        and approved_values.revision = signed.revision

),

returns_signed as (

    select approved_returns.*
    from approved_returns
    inner join signed
        on approved_returns.cycle = signed.cycle
        and approved_returns.signed_unit_level = signed.signed_unit_level
        and approved_returns.signed_unit_code = signed.signed_unit_code
        and approved_returns.revision = signed.revision

),

figure_changes as (

    select
        coalesce(now_rows.cycle, signed_rows.cycle) as cycle,
        coalesce(now_rows.signed_unit_level, signed_rows.signed_unit_level) as signed_unit_level,
        coalesce(now_rows.signed_unit_code, signed_rows.signed_unit_code) as signed_unit_code,
        coalesce(now_rows.revision, signed_rows.revision) as revision,
        'figure' as change_kind,
        coalesce(now_rows.unit_level, signed_rows.unit_level) as unit_level,
        coalesce(now_rows.unit_code, signed_rows.unit_code) as unit_code,
        coalesce(now_rows.indicator_code, signed_rows.indicator_code) as item_code,
        signed_rows.value as approved_value,
        now_rows.value as current_value,
        {{ dbt.cast('null', dbt.type_string()) }} as approved_file_name,
        {{ dbt.cast('null', dbt.type_string()) }} as current_file_name
    from current_values as now_rows
    full outer join values_signed as signed_rows
        on now_rows.cycle = signed_rows.cycle
        and now_rows.signed_unit_level = signed_rows.signed_unit_level
        and now_rows.signed_unit_code = signed_rows.signed_unit_code
        and now_rows.unit_level = signed_rows.unit_level
        and now_rows.unit_code = signed_rows.unit_code
        and now_rows.indicator_code = signed_rows.indicator_code
    where signed_rows.indicator_code is null
        or now_rows.indicator_code is null
        or now_rows.value is distinct from signed_rows.value
        or now_rows.numerator is distinct from signed_rows.numerator
        or now_rows.denominator is distinct from signed_rows.denominator

),

return_changes as (

    select
        coalesce(now_rows.cycle, signed_rows.cycle) as cycle,
        coalesce(now_rows.signed_unit_level, signed_rows.signed_unit_level) as signed_unit_level,
        coalesce(now_rows.signed_unit_code, signed_rows.signed_unit_code) as signed_unit_code,
        coalesce(now_rows.revision, signed_rows.revision) as revision,
        'return' as change_kind,
        coalesce(now_rows.reporter_kind, signed_rows.reporter_kind) as unit_level,
        coalesce(now_rows.reporter_code, signed_rows.reporter_code) as unit_code,
        'return' as item_code,
        {{ dbt.cast('null', type_double()) }} as approved_value,
        {{ dbt.cast('null', type_double()) }} as current_value,
        signed_rows.current_file_name as approved_file_name,
        now_rows.current_file_name
    from current_returns as now_rows
    full outer join returns_signed as signed_rows
        on now_rows.cycle = signed_rows.cycle
        and now_rows.signed_unit_level = signed_rows.signed_unit_level
        and now_rows.signed_unit_code = signed_rows.signed_unit_code
        and now_rows.reporter_code = signed_rows.reporter_code
    where signed_rows.reporter_code is null
        or now_rows.reporter_code is null
        or now_rows.received is distinct from signed_rows.received
        or now_rows.current_file_name is distinct from signed_rows.current_file_name

),

final as (

    select
        cycle,
        signed_unit_level,
        signed_unit_code,
        {{ dbt.cast('revision', dbt.type_int()) }} as revision,
        change_kind,
        unit_level,
        unit_code,
        item_code,
        {{ dbt.cast('approved_value', type_double()) }} as approved_value,
        {{ dbt.cast('current_value', type_double()) }} as current_value,
        approved_file_name,
        current_file_name
    from figure_changes

    union all

    select
        cycle,
        signed_unit_level,
        signed_unit_code,
        {{ dbt.cast('revision', dbt.type_int()) }} as revision,
        change_kind,
        unit_level,
        unit_code,
        item_code,
        {{ dbt.cast('approved_value', type_double()) }} as approved_value,
        {{ dbt.cast('current_value', type_double()) }} as current_value,
        approved_file_name,
        current_file_name
    from return_changes

)

select * from final
