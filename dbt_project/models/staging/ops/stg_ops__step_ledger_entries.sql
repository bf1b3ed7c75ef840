with

source as (

    select * from {{ source('ops', 'step_ledger') }}

),

ranked as (

    select
        step,
        cycle,
        item,
        digest,
        outcome,
        recorded_at,
        row_number() over (
            partition by step, cycle, item order by recorded_at desc, outcome asc
        ) as recency

    from source

)

select * from ranked
