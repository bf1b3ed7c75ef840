with

source as (

    select * from {{ source('quality', 'findings') }}

),

renamed as (

    select
        finding_key,
        run_key,
        cycle,
        suite,
        rule_id,
        -- the family before the dot: completeness, timeliness, consistency, range, ...
        {{ dbt.split_part('rule_id', "'.'", 1) }} as rule_family,
        severity,
        reporter_code,
        unit_code,
        unit_level,
        unit_name,
        district_code,
        province_code,
        element_code,
        indicator_code,
        {{ dbt.cast('observed_value', type_double()) }} as observed_value,
        expected_value,
        message_vi,
        message_en

    from source

)

select * from renamed
