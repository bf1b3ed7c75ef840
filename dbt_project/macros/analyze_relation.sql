{% macro analyze_relation() %}
    {#- Fresh planner statistics for a table just (re)built. PostgreSQL has none until its
        autovacuum gets to the table, and plans nested loops over thousands of rows meanwhile
        (seconds instead of milliseconds); DuckDB keeps its statistics as it writes. -#}
    {{ return(adapter.dispatch('analyze_relation', 'child_programme')()) }}
{% endmacro %}

{% macro default__analyze_relation() %}
    {{ return('') }}
{% endmacro %}

{% macro postgres__analyze_relation() %}
    {#- a view has no statistics of its own (PostgreSQL only warns that it skips it) -#}
    {%- if config.get('materialized') == 'view' -%}
        {{ return('') }}
    {%- endif -%}
    {{ return('analyze ' ~ this) }}
{% endmacro %}
