-- The findings of the quality checks (quality.findings, written by `cycle validate`), one row
-- per finding, with the names analysts and reports need. A view: validation rewrites a cycle's
-- findings after the build, and reports and alerts read them straight away.
with

findings as (

    select * from {{ ref('stg_quality__findings') }}

),

validation_runs as (

    select * from {{ ref('stg_quality__validation_runs') }}

),

cycles as (

    select * from {{ ref('int_cycles_dated') }}

),

reporters as (

    select * from {{ ref('fct_return_status') }}

),

admin_units as (

    select * from {{ ref('dim_admin_units') }}

),

data_elements as (

    select * from {{ ref('dim_data_elements') }}

),

indicators as (

    select * from {{ ref('dim_indicators') }}

),

final as (

    select
        findings.finding_key,
        findings.cycle,
        cycles.hierarchy,
        findings.suite,
        findings.rule_id,
        findings.rule_family,
        findings.severity,
        findings.reporter_code,
        case
            when reporters.reporter_code is null then null
            else coalesce(reporters.agency, 'commune')
        end as reporter_role,
        reporters.reporter_name_vi,
        findings.unit_code,
        findings.unit_level,
        coalesce(units.name_vi, findings.unit_name) as unit_name_vi,
        findings.district_code,
        districts.name_vi as district_name_vi,
        findings.province_code,
        provinces.name_vi as province_name_vi,
        findings.element_code,
        data_elements.name_vi as element_name_vi,
        data_elements.name_en as element_name_en,
        data_elements.is_sensitive as element_is_sensitive,
        findings.indicator_code,
        indicators.name_vi as indicator_name_vi,
        indicators.name_en as indicator_name_en,
        findings.observed_value,
        findings.expected_value,
        findings.message_vi,
        findings.message_en,
        findings.run_key,
        validation_runs.validated_at

    from findings
    left join cycles
        on findings.cycle = cycles.cycle
    left join reporters
        on findings.cycle = reporters.cycle
        and findings.reporter_code = reporters.reporter_code
    left join admin_units as units
        on cycles.hierarchy = units.hierarchy
        and findings.unit_level = units.unit_level
        and findings.unit_code = units.unit_code
    left join admin_units as districts
        on cycles.hierarchy = districts.hierarchy
        and districts.unit_level = 'district'
        and findings.district_code = districts.unit_code
    left join admin_units as provinces
        on cycles.hierarchy = provinces.hierarchy
        and provinces.unit_level = 'province'
        and findings.province_code = provinces.unit_code
    left join data_elements
        on findings.element_code = data_elements.element_code
    left join indicators
        on findings.indicator_code = indicators.indicator_code
    left join validation_runs
        on findings.cycle = validation_runs.cycle
        and findings.suite = validation_runs.suite

)

select * from final
