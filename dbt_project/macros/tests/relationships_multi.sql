{#- Every combination of `columns` (ignoring rows where any is null) exists as `to_columns`
    in `to`: a relationships test for composite keys. -#}
{% test relationships_multi(model, columns, to, to_columns) %}
    select child.*
    from (
        select distinct {{ columns | join(', ') }}
        from {{ model }}
        where {% for column in columns %}{{ column }} is not null{{ ' and ' if not loop.last }}{% endfor %}
    ) as child
    left join {{ to }} as parent
        on {% for column in columns %}child.{{ column }} = parent.{{ to_columns[loop.index0] }}{{ ' and ' if not loop.last }}{% endfor %}
    where parent.{{ to_columns[0] }} is null
{% endtest %}
