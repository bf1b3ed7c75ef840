{#- Cycle ids, and the cycles and provinces a run rebuilds. -#}

{% macro rebuild_request(name) %}
    {#- The `name` ('cycles' or 'provinces') of this run's rebuild: the var of that name, else
        the same key of the JSON in the environment variable CYCLE_DBT_REBUILD, which
        `cycle transform` sets (cycle/transform.py). The environment is read only while
        executing: dbt re-parses the whole project when a var, or an environment variable read
        while parsing, changes, and a parse costs more than a late return's rebuild. -#}
    {%- set value = var(name, none) -%}
    {%- if (value is none or value == '') and execute -%}
        {%- set value = fromjson(env_var('CYCLE_DBT_REBUILD', '{}') or '{}').get(name) -%}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}


{% macro requested_cycles() %}
    {#- The cycles requested (var `cycles`, or CYCLE_DBT_REBUILD) as a list of checked cycle
        ids, or none (also for an empty list) when every cycle is built. -#}
    {%- set ids = requested_list('cycles', '^20[0-9]{2}-(H1|Y)$', 'a cycle id (YYYY-H1 or YYYY-Y)', upper=true) -%}
    {{ return(none if not ids else ids) }}
{% endmacro %}


{% macro requested_provinces() %}
    {#- The provinces requested (var `provinces`, or CYCLE_DBT_REBUILD) as a list of province
        codes (an empty list rebuilds none), or none when every province is built. -#}
    {{ return(requested_list('provinces', '^[0-9]{2}$', 'a province code (two digits)')) }}
{% endmacro %}


{% macro requested_list(name, pattern, what, upper=false) %}
    {#- The request `name` (a list, or "a,b" text) as a list of distinct checked items, or none
        when it is not given. -#}
    {%- set raw = rebuild_request(name) -%}
    {%- if raw is none or raw == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set items = raw.split(',') if raw is string else raw -%}
    {%- set checked = [] -%}
    {%- for item in items -%}
        {%- set value = (item | string | trim) -%}
        {%- set value = value | upper if upper else value -%}
        {%- if not modules.re.match(pattern, value) -%}
            {{ exceptions.raise_compiler_error("var " ~ name ~ ": '" ~ item ~ "' is not " ~ what) }}
        {%- endif -%}
        {%- do checked.append(value) -%}
    {%- endfor -%}
    {{ return(checked | unique | list) }}
{% endmacro %}


{% macro previous_comparable_cycle_id(cycle_id) %}
    {#- 2024-H1 -> 2023-H1: the same kind of cycle one year earlier. -#}
    {%- set parts = cycle_id.split('-') -%}
    {{ return((parts[0] | int - 1) ~ '-' ~ parts[1]) }}
{% endmacro %}


{% macro cycle_filter(column='cycle', with_previous=false, with_later=false, province_column=none) %}
    {#- A predicate on `column` limiting an incremental run to the requested cycles (and, with
        with_previous, the previous comparable cycles whose figures they are compared with;
        with with_later, every later cycle of the same kind in the same hierarchy and the next
        one, whose history holds the requested cycles). With province_column, also limited to the requested
        provinces (the `provinces` var) in models that rebuild by province
        (meta rebuild_by_province). Always true on a full build, on the first build of a
        model, or in a unit test (which has no `this`). -#}
    {%- set ids = requested_cycles() -%}
    {%- if ids is none or this is none or not is_incremental() -%}
        1 = 1
    {%- else -%}
        {%- set wanted = ids | list -%}
        {%- if with_previous -%}
            {%- for cycle_id in ids -%}
                {%- do wanted.append(previous_comparable_cycle_id(cycle_id)) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if with_later %}({% endif -%}
        {{ column }} in ({% for cycle_id in wanted | unique %}'{{ cycle_id }}'{{ ', ' if not loop.last }}{% endfor %})
        {%- if with_later -%}
            {%- for cycle_id in ids %}
            or {{ later_comparable_cycles(column, cycle_id) }}
            {%- endfor -%})
        {%- endif -%}
        {%- if province_column %}
        and {{ province_filter(province_column) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{% macro later_comparable_cycles(column, cycle_id) %}
    {#- A predicate: `column` is a cycle of cycle_id's kind after it, up to the end of the next
        hierarchy version: a commune's history crosses one reform, where its predecessors'
        figures are carried onto it (int_element_values_history), so 2023-Y's figures are in
        the history of 2024-Y and of the post-reform 2025-Y, 2026-Y... (not of a version after
        that). Cycle ids of one kind sort as text by year. -#}
    {%- set parts = cycle_id.split('-') -%}
    {%- set kind = parts[1] -%}
    {%- set last_day_suffix = '-06-30' if kind == 'H1' else '-12-31' -%}
    {%- set last_day = parts[0] ~ last_day_suffix -%}
    {%- set versions = hierarchy_validities() | sort(attribute=0) -%}
    {%- set bound = namespace(year=none) -%}
    {%- for valid_from, valid_to in versions -%}
        {%- if valid_from <= last_day and (not valid_to or last_day <= valid_to) -%}
            {%- set next_index = loop.index0 + 1 -%}
            {%- set until = versions[next_index][1] if next_index < versions | length else valid_to -%}
            {%- if until -%}
                {#- the last year whose cycle of this kind ends while that version is in force -#}
                {%- set to_year = until[:4] | int -%}
                {%- set bound.year = to_year if (to_year ~ last_day_suffix) <= until else to_year - 1 -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    ({{ column }} like '%-{{ kind }}' and {{ column }} > '{{ cycle_id }}'
    {%- if bound.year is not none %} and {{ column }} <= '{{ bound.year }}-{{ kind }}'{% endif -%})
{% endmacro %}


{% macro hierarchy_validities() %}
    {#- (valid_from, valid_to) of each hierarchy version (seed hierarchies) as ISO text, valid_to
        none while in force; read from the warehouse when a run renders an incremental filter.
        The seed is found through the graph rather than ref(), which would add a DAG edge to
        every model that filters cycles. -#}
    {%- set node = graph.nodes['seed.' ~ project_name ~ '.hierarchies'] -%}
    {%- set relation = api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- set rows = run_query(
        'select ' ~ dbt.cast('valid_from', dbt.type_string()) ~ ', ' ~ dbt.cast('valid_to', dbt.type_string())
        ~ ' from ' ~ relation
    ) -%}
    {{ return(rows.rows | map('list') | list) }}
{% endmacro %}


{% macro province_filter(column='province_code') %}
    {#- A predicate on `column` limiting an incremental run of a model that rebuilds by
        province (meta rebuild_by_province) to the requested provinces (the `provinces` var).
        Always true otherwise, like cycle_filter. -#}
    {%- set provinces = requested_provinces() -%}
    {%- if provinces is none or this is none or not is_incremental()
          or not config.meta_get('rebuild_by_province', false) -%}
        1 = 1
    {%- elif provinces | length == 0 -%}
        1 = 0
    {%- else -%}
        {{ column }} in ({% for code in provinces %}'{{ code }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endif -%}
{% endmacro %}
