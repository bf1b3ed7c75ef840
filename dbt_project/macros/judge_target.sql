{% macro judge_target(comparator, target_value, value, numerator, compared_value, compared_previous_value) %}
    {#- `met`, `not_met` or `unknown` for one target.

        Levels (>=, >, <=, <, =) compare the value with the target; equality within 1e-9 so that
        100% computed as a ratio equals a target of 100. `eliminate` asks for a numerator of 0.
        `decline` and `decline_pct>=` compare this cycle with the previous annual cycle over the
        communes known in both (compared_value, compared_previous_value): a fall of at least N
        percent; from 0 the only way to keep declining is to stay at 0. -#}
    case
        when {{ comparator }} in ('>=', '>', '<=', '<', '=') and ({{ value }} is null or {{ target_value }} is null) then 'unknown'
        when {{ comparator }} = '>=' then case when {{ value }} >= {{ target_value }} - 1e-9 then 'met' else 'not_met' end
        when {{ comparator }} = '>'  then case when {{ value }} > {{ target_value }} + 1e-9 then 'met' else 'not_met' end
        when {{ comparator }} = '<=' then case when {{ value }} <= {{ target_value }} + 1e-9 then 'met' else 'not_met' end
        when {{ comparator }} = '<'  then case when {{ value }} < {{ target_value }} - 1e-9 then 'met' else 'not_met' end
        when {{ comparator }} = '='  then case when abs({{ value }} - {{ target_value }}) <= 1e-9 then 'met' else 'not_met' end
        when {{ comparator }} = 'eliminate' then
            case
                when {{ numerator }} is null then 'unknown'
                when {{ numerator }} = 0 then 'met'
                else 'not_met'
            end
        when {{ comparator }} in ('decline', 'decline_pct>=') then
            case
                when {{ compared_value }} is null or {{ compared_previous_value }} is null then 'unknown'
                when {{ compared_previous_value }} = 0 then
                    case when {{ compared_value }} = 0 then 'met' else 'not_met' end
                when {{ comparator }} = 'decline' then
                    case when {{ compared_value }} < {{ compared_previous_value }} then 'met' else 'not_met' end
                when {{ target_value }} is null then 'unknown'
                when ({{ compared_previous_value }} - {{ compared_value }}) * 100.0 / {{ compared_previous_value }}
                     >= {{ target_value }} - 1e-9 then 'met'
                else 'not_met'
            end
        else 'unknown'
    end
{% endmacro %}
