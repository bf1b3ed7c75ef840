{#- Helpers of the check-ready tables of the quality suites (models/intermediate/quality/). -#}

{% macro expected_reporter_code(role, unit_code, parent_code) %}
    {#- The reporter expected to send a commune's figures of a role: the commune itself, or
        `<parent>-<agency>`, the agency of the commune's parent unit (the level right above
        communes is its hierarchy's agency_level: a district, after the reform a province), as
        int_reporters_expected names them. -#}
    case
        when {{ role }} = 'commune' then {{ unit_code }}
        else {{ dbt.concat([parent_code, "'-'", role]) }}
    end
{% endmacro %}


{% macro data_element_codes() %}
    {#- Every data element code (seed data_elements), read from the warehouse when the model
        runs; empty while dbt parses, or before the seeds were ever loaded (`dbt docs` on a
        new warehouse). The calling model must ref stg_reference__data_elements. -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set relation = load_relation(ref('stg_reference__data_elements')) -%}
    {%- if relation is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set rows = run_query('select element_code from ' ~ relation ~ ' order by element_code') -%}
    {{ return(rows.columns[0].values() | list) }}
{% endmacro %}
