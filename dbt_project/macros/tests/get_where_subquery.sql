{#- dbt's `where` config for data tests, plus one rule: when a run rebuilds some cycles (var
    `cycles`), the tests of models with a `cycle` column check those cycles only. The other
    cycles did not change, and testing a decade of history after every late return would cost
    more than the rebuild itself. A full build tests everything. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set ids = requested_cycles() -%}
    {%- if ids and execute and relation.identifier in cycle_grained_relations() -%}
        {%- do filters.append("cycle in ('" ~ ids | join("', '") ~ "')") -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{% macro cycle_grained_relations() %}
    {#- Names of the models and sources that document a `cycle` column. -#}
    {%- set names = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and 'cycle' in node.columns -%}
        {%- do names.append(node.alias or node.name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}
