{% macro median(expression) %}
    {#- The median of `expression` over a group, as a double: the ordered-set aggregate both
        DuckDB and PostgreSQL have (not a window function on PostgreSQL: group, then join). -#}
    {{ return(adapter.dispatch('median', 'child_programme')(expression)) }}
{% endmacro %}

{% macro default__median(expression) %}
    percentile_cont(0.5) within group (order by {{ dbt.cast(expression, type_double()) }})
{% endmacro %}
