{% macro indicator_value(aggregation, numerator, denominator, factor) %}
    {#- An indicator's value from its summed parts: Σ numerator / Σ denominator x factor for
        ratios and shares of communes (null when the denominator is 0 or unknown); the count
        itself (x factor) for `count` indicators such as CT13. -#}
    case
        when {{ aggregation }} = 'count' then {{ dbt.cast(numerator, type_double()) }} * {{ factor }}
        else {{ ratio(numerator, denominator, factor) }}
    end
{% endmacro %}
