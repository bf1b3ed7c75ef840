{#- The columns together identify a row: none is null and no two rows share the combination.
    One query per model instead of a unique test plus a not_null test per key column. -#}
{% test primary_key(model, columns) %}
    {%- set key = columns | join(', ') -%}
    select {{ key }}, count(*) as rows_with_key
    from {{ model }}
    group by {{ key }}
    having
        count(*) > 1
        {%- for column in columns %}
        or {{ column }} is null
        {%- endfor %}
{% endtest %}
