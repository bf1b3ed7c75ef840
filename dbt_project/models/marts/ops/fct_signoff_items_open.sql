-- What keeps a unit from being approved, item by item: each expected return not received and
-- not waived, each error finding not accepted (`cycle waive`, `cycle accept`). Both come from
-- the checks (`completeness.missing_return` is an expected reporter without a loaded return):
-- a unit is approved only once validated, so they are current. A finding that is gone (a
-- corrected return) is resolved. Each item belongs to the unit whose office consolidates its
-- reporter: its district (before the reform) or its province. A view: live over the findings
-- and the trail.
with

findings as (

    select
        cycle, finding_key, rule_id, reporter_code, reporter_name_vi, district_code,
        province_code
    from {{ ref('fct_quality_issues') }}
    where severity = 'error'

),

returns_missing as (

    select
        cycle,
        reporter_code,
        reporter_name_vi as reporter_name,
        district_code,
        province_code
    from findings
    where rule_id = 'completeness.missing_return'

),

errors as (

    select cycle, finding_key, rule_id, reporter_code, district_code, province_code
    from findings
    where rule_id != 'completeness.missing_return'

),

actions as (

    select cycle, action, subject
    from {{ ref('stg_ops__signoff_actions') }}
    where action in ('waive', 'accept')

),

waived as (

    select distinct cycle, subject as reporter_code from actions where action = 'waive'

),

accepted as (

    select distinct cycle, subject as finding_key from actions where action = 'accept'

),

items as (

    select
        returns_missing.cycle,
        'return' as item_kind,
        returns_missing.reporter_code as item_code,
        returns_missing.reporter_code,
        returns_missing.reporter_name as detail,
        returns_missing.district_code,
        returns_missing.province_code
    from returns_missing
    left join waived
        on returns_missing.cycle = waived.cycle
        and returns_missing.reporter_code = waived.reporter_code
    where waived.reporter_code is null

    union all

    select
        errors.cycle,
        'finding' as item_kind,
        errors.finding_key as item_code,
        errors.reporter_code,
        errors.rule_id as detail,
        errors.district_code,
        errors.province_code
    from errors
    left join accepted
        on errors.cycle = accepted.cycle
        and errors.finding_key = accepted.finding_key
    where accepted.finding_key is null

),

final as (

    select
        cycle,
        case when district_code is null then 'province' else 'district' end as unit_level,
        coalesce(district_code, province_code) as unit_code,
        item_kind,
        item_code,
        reporter_code,
        detail
    from items

)

select * from final
