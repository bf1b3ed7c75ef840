{#- On PostgreSQL a view is replaced in place (`create or replace view`), never swapped.

    dbt's view materialization creates the new view under a temporary name, renames the old
    one away and drops it with CASCADE: on PostgreSQL, where a view binds to the relations it
    reads, that drops every view built over it (`fct_quality_issues` over the
    `stg_quality__*` views) until the build reaches it again, and for good if the run is
    killed in between. `create or replace view` keeps the relation and its dependants. When
    the columns changed in a way PostgreSQL cannot replace (a column dropped, renamed or
    retyped: SQLSTATE 42P16), the view is dropped and created in the same transaction; its
    dependants are downstream and this build creates them again. A new view, a relation that
    is not a view, and --full-refresh take dbt's own materialization. -#}
{% materialization view, adapter='postgres' %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- if existing_relation is none or not existing_relation.is_view or should_full_refresh() -%}
    {{ return(materialization_view_default()) }}
  {%- endif -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set grant_config = config.get('grants') -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- if config.get('contract').enforced -%}
    {{ get_assert_columns_equivalent(sql) }}
  {%- endif -%}
  {% call statement('main') -%}
    do $cycle_view$
    begin
      execute $cycle_sql$ create or replace view {{ target_relation }} as (
        {{ sql }}
      ) $cycle_sql$;
    exception when invalid_table_definition then
      execute $cycle_sql$ drop view {{ target_relation }} cascade $cycle_sql$;
      execute $cycle_sql$ create view {{ target_relation }} as (
        {{ sql }}
      ) $cycle_sql$;
    end
    $cycle_view$
  {%- endcall %}

  {% do apply_grants(target_relation, grant_config, should_revoke=True) %}
  {% do persist_docs(target_relation, model) %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization -%}
