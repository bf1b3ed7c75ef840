{% macro rows_of_signed_units(signed, rows) %}
    {#- Each signed unit's rows of `rows`, beside the unit and its revision: its own rows and
        those of every unit inside it (the rows whose `<level>_code` is its code), the rows
        approving copies (core/signoffs.py, `snapshot`). -#}
    {%- for level in ('district', 'province') %}
    select {{ signed }}.signed_unit_level, {{ signed }}.signed_unit_code, {{ signed }}.revision, {{ rows }}.*
    from {{ signed }}
    inner join {{ rows }}
        on {{ signed }}.cycle = {{ rows }}.cycle
        and {{ signed }}.signed_unit_code = {{ rows }}.{{ level }}_code
    where {{ signed }}.signed_unit_level = '{{ level }}'
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
{% endmacro %}
