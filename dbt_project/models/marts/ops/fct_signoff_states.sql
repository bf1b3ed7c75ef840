-- Each signing unit's sign-off: the office that consolidates (a district before the reform, a
-- province after it) and, before the reform, the province after all its districts. open ->
-- validated (its figures built from every return received and checked since) -> approved (a
-- revision, by whom, when) -> locked (the cycle). What blocks approval, counted and sampled; a
-- pending revision when figures or returns changed since the approved one. A view: live over
-- the trail (an approval shows at once) and the cycle's states.
with

units as (

    select * from {{ ref('fct_cycle_states') }}

),

decisions as (

    select * from {{ ref('int_signoff_actions_ranked') }}
    where recency = 1

),

items as (

    select * from {{ ref('fct_signoff_items_open') }}

),

pending as (

    select * from {{ ref('fct_pending_revisions') }}

),

-- a province with districts in the cycle signs after them; any other unit signs its items
provinces_with_districts as (

    select distinct cycle, province_code from units where unit_level = 'district'

),

structure as (

    select
        units.*,
        units.unit_level = 'province' and provinces_with_districts.province_code is not null
            as signs_after_districts
    from units
    left join provinces_with_districts
        on units.cycle = provinces_with_districts.cycle
        and units.unit_code = provinces_with_districts.province_code

),

item_counts as (

    select
        cycle,
        unit_level,
        unit_code,
        sum(case when item_kind = 'return' then 1 else 0 end) as returns_missing,
        sum(case when item_kind = 'finding' then 1 else 0 end) as findings_open,
        min(case when item_kind = 'return' then item_code end) as first_missing_reporter,
        min(case when item_kind = 'finding' then item_code end) as first_open_finding
    from items
    group by cycle, unit_level, unit_code

),

pending_counts as (

    select
        cycle,
        signed_unit_level,
        signed_unit_code,
        max(revision) as pending_of_revision,
        sum(case when change_kind = 'figure' then 1 else 0 end) as figures_pending,
        sum(case when change_kind = 'return' then 1 else 0 end) as returns_pending
    from pending
    group by cycle, signed_unit_level, signed_unit_code

),

assessed as (

    select
        structure.cycle,
        structure.hierarchy,
        structure.unit_level,
        structure.unit_code,
        structure.unit_name_vi,
        structure.province_code,
        structure.signs_after_districts,
        structure.state as cycle_state,
        structure.state in ('validated', 'reported', 'alerted') as is_validated,
        coalesce(locks.action = 'lock', false) as is_locked,
        coalesce(approvals.action = 'approve', false) as is_approved,
        case when approvals.action = 'approve' then approvals.revision end as revision,
        case when approvals.action = 'approve' then approvals.actor end as approved_by,
        case when approvals.action = 'approve' then approvals.recorded_at end as approved_at,
        case when approvals.action = 'approve' then approvals.comment end as approval_comment,
        case when approvals.action = 'approve' then approvals.via end as approved_via,
        coalesce(item_counts.returns_missing, 0) as returns_missing,
        coalesce(item_counts.findings_open, 0) as findings_open,
        item_counts.first_missing_reporter,
        item_counts.first_open_finding,
        approvals.action = 'approve'
        and coalesce(pending_counts.figures_pending + pending_counts.returns_pending, 0) > 0
            as pending_revision,
        case
            when approvals.action = 'approve' then coalesce(pending_counts.figures_pending, 0)
            else 0
        end as figures_pending,
        case
            when approvals.action = 'approve' then coalesce(pending_counts.returns_pending, 0)
            else 0
        end as returns_pending
    from structure
    left join decisions as approvals
        on structure.cycle = approvals.cycle
        and approvals.family = 'approval'
        and structure.unit_level = approvals.unit_level
        and structure.unit_code = approvals.unit_code
    left join decisions as locks
        on structure.cycle = locks.cycle
        and locks.family = 'lock'
    left join item_counts
        on structure.cycle = item_counts.cycle
        and structure.unit_level = item_counts.unit_level
        and structure.unit_code = item_counts.unit_code
    left join pending_counts
        on structure.cycle = pending_counts.cycle
        and structure.unit_level = pending_counts.signed_unit_level
        and structure.unit_code = pending_counts.signed_unit_code

),

-- a province signing after its districts: those not approved, or approved with a revision pending
districts_left as (

    select
        cycle,
        province_code,
        count(*) as districts_left,
        min(unit_code) as first_district_left
    from assessed
    where unit_level = 'district' and (not is_approved or pending_revision)
    group by cycle, province_code

),

final as (

    select
        assessed.cycle,
        assessed.hierarchy,
        assessed.unit_level,
        assessed.unit_code,
        assessed.unit_name_vi,
        assessed.province_code,
        assessed.signs_after_districts,
        case
            when assessed.is_locked then 'locked'
            when assessed.is_approved then 'approved'
            when assessed.is_validated then 'validated'
            else 'open'
        end as state,
        assessed.cycle_state,
        assessed.is_validated,
        assessed.is_locked,
        assessed.is_approved,
        {{ dbt.cast('assessed.revision', dbt.type_int()) }} as revision,
        assessed.approved_by,
        assessed.approved_at,
        assessed.approval_comment,
        assessed.approved_via,
        {{ dbt.cast('assessed.returns_missing', dbt.type_int()) }} as returns_missing,
        assessed.first_missing_reporter,
        {{ dbt.cast('assessed.findings_open', dbt.type_int()) }} as findings_open,
        assessed.first_open_finding,
        {{ dbt.cast('coalesce(districts_left.districts_left, 0)', dbt.type_int()) }}
            as districts_left,
        districts_left.first_district_left,
        coalesce(assessed.pending_revision, false) as pending_revision,
        {{ dbt.cast('assessed.figures_pending', dbt.type_int()) }} as figures_pending,
        {{ dbt.cast('assessed.returns_pending', dbt.type_int()) }} as returns_pending,
        not assessed.is_locked
        and assessed.is_validated
        and (not assessed.is_approved or coalesce(assessed.pending_revision, false))
        and assessed.returns_missing = 0
        and assessed.findings_open = 0
        and coalesce(districts_left.districts_left, 0) = 0 as is_ready
    from assessed
    left join districts_left
        on assessed.cycle = districts_left.cycle
        and assessed.signs_after_districts
        and assessed.province_code = districts_left.province_code

)

select * from final
