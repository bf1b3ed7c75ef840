{% macro type_double() %}
    {#- 8-byte floating point on every adapter (dbt.type_float() is 4-byte `float` on DuckDB). -#}
    {{ return('double precision') }}
{% endmacro %}
