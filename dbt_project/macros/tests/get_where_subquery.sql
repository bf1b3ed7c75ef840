{#- dbt's `where` config for data tests, plus one rule: when a run rebuilds some cycles (var
    `cycles`, or CYCLE_DBT_REBUILD), the tests of models with a `cycle` column check those
    cycles only, and the tests of models rebuilt by province (meta rebuild_by_province) those
    provinces only. The rest did not change, and testing a decade of history after every late
    return would cost more than the rebuild itself. A full build tests everything. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set ids = requested_cycles() -%}
    {%- if ids and execute -%}
        {%- set grained = rebuilt_relations() -%}
        {%- if relation.identifier in grained.cycle -%}
            {%- do filters.append("cycle in ('" ~ ids | join("', '") ~ "')") -%}
            {%- set provinces = requested_provinces() -%}
            {%- if provinces is not none and relation.identifier in grained.province -%}
                {%- do filters.append("province_code in ('" ~ (provinces | join("', '")) ~ "')" if provinces else "1 = 0") -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{% macro rebuilt_relations() %}
    {#- Names of the models that document a `cycle` column (`cycle`), and of those among them
        rebuilt by province that document a `province_code` column (`province`). -#}
    {%- set names = {'cycle': [], 'province': []} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and 'cycle' in node.columns -%}
        {%- do names.cycle.append(node.alias or node.name) -%}
        {%- if node.config.meta.get('rebuild_by_province') and 'province_code' in node.columns -%}
            {%- do names.province.append(node.alias or node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}
