{% macro ratio(numerator, denominator, factor=1) %}
    {#- numerator / denominator x factor as a double; null when the denominator is null or 0. -#}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else {{ dbt.cast(numerator, type_double()) }} * {{ factor }} / {{ dbt.cast(denominator, type_double()) }}
    end
{% endmacro %}
