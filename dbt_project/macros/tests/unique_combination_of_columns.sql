{#- The columns together identify a row (a composite primary key); nulls count as values. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') -%}
    select {{ columns }}, count(*) as rows_with_key
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
{% endtest %}
