-- The decisions of the sign-off trail, newest first: per signing unit its approvals and
-- withdrawals (family `approval`), per cycle its locks and unlocks (family `lock`). The first of
-- each (recency = 1) is in force. A view: an approval shows as soon as it is recorded.
with

actions as (

    select * from {{ ref('stg_ops__signoff_actions') }}
    where action in ('approve', 'unapprove', 'lock', 'unlock')

),

ranked as (

    select
        cycle,
        case when action in ('approve', 'unapprove') then 'approval' else 'lock' end as family,
        unit_level,
        unit_code,
        action,
        actor,
        via,
        comment,
        revision,
        recorded_at,
        row_number() over (
            partition by
                cycle,
                case when action in ('approve', 'unapprove') then 'approval' else 'lock' end,
                unit_level,
                unit_code
            order by recorded_at desc, action_id desc
        ) as recency

    from actions

)

select * from ranked
