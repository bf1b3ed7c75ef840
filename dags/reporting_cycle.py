"""
### Reporting cycle of the programme of action for children

One run = one reporting cycle (`2024-H1` half-year, `2024-Y` annual), through the same steps as
`cycle run CYCLE` on the command line (`cycle/steps.py`):

1. **ingest** `<inbox>/<cycle>/` into the raw layer (every file archived; invalid files and rows
   rejected with a reason);
2. **transform**: dbt builds staging → intermediate → marts for the cycle and tests them;
3. **validate**: Great Expectations flags missing and implausible figures
   (`marts.fct_quality_issues`), with Data Docs under `<reports>/<cycle>/data_docs/`;
4. **report**: consolidated `.xlsx` and `.html` reports per district, province and the country in
   `<reports>/<cycle>/`;
5. **alert**: one email per district office (province office after the July 2025 reform) about
   its own communes and agencies, over the `smtp_default` connection.

Every step is idempotent: re-run the DAG after a late return and only what changed is redone.
It has no schedule: the `inbox_watch` DAG triggers it for each open cycle whose inbox holds new
or changed returns, and people trigger it by hand.

**Params**: `cycle` (default: the cycle the run's date falls in: January-June → H1, July-December
→ Y); `dry_run_alerts` to log the emails instead of sending them.
Paths come from the `CYCLE_INBOX`, `CYCLE_WAREHOUSE`, `CYCLE_REPORTS`, `CYCLE_ARCHIVE` and
`CYCLE_CONTACTS` environment variables, as for the command line.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from core.cycles import CYCLE_ID_PATTERN


@dag(
    dag_id="reporting_cycle",
    description="Ingest, transform, validate, report and alert for one reporting cycle",
    doc_md=__doc__,
    # No schedule of its own: `inbox_watch` triggers it when an open cycle's inbox holds new
    # returns, people trigger it by hand; a dated schedule would run cycles with nothing to do.
    schedule=None,
    start_date=pendulum.datetime(2021, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    tags=["child-programme", "reporting-cycle", "dbt", "great-expectations"],
    default_args={
        "owner": "data-engineering",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
    params={
        "cycle": Param(
            None,
            type=["null", "string"],
            pattern=CYCLE_ID_PATTERN,
            title="Cycle",
            description="YYYY-H1 or YYYY-Y; empty: the cycle the run's date falls in.",
        ),
        "dry_run_alerts": Param(False, type="boolean", title="Log alerts instead of sending"),
    },
    render_template_as_native_obj=True,
)
def reporting_cycle() -> None:
    @task
    def resolve_cycle() -> str:
        """The cycle this run is for: the `cycle` param, else the run date's cycle."""
        from core.cycles import Cycle

        context = get_current_context()
        given = context["params"].get("cycle")
        if given:
            return Cycle.parse(given).id
        from zoneinfo import ZoneInfo

        when = context.get("logical_date") or context["dag_run"].run_after
        return Cycle.containing(when.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()).id

    @task
    def ingest(cycle_id: str) -> dict[str, Any]:
        from cycle import steps

        return steps.as_xcom(steps.ingest(steps.settings(), steps.cycle(cycle_id)))

    @task
    def transform(cycle_id: str, _ingested: dict[str, Any]) -> dict[str, Any]:
        from cycle import steps

        return steps.as_xcom(steps.transform(steps.settings(), steps.cycle(cycle_id)))

    @task
    def validate(cycle_id: str, _transformed: dict[str, Any]) -> dict[str, Any]:
        from cycle import steps

        return steps.as_xcom(steps.validate(steps.settings(), steps.cycle(cycle_id)))

    @task
    def report(cycle_id: str, _validated: dict[str, Any]) -> dict[str, Any]:
        from cycle import steps

        return steps.as_xcom(steps.report(steps.settings(), steps.cycle(cycle_id)))

    @task
    def alert(cycle_id: str, _reported: dict[str, Any]) -> dict[str, Any]:
        from cycle import steps

        dry_run = bool(get_current_context()["params"].get("dry_run_alerts"))
        return steps.as_xcom(
            # the `smtp_default` connection, wherever Airflow keeps it (alerts.smtp reads it
            # through the SMTP provider's hook)
            steps.alert(steps.settings(), steps.cycle(cycle_id), dry_run=dry_run)
        )

    cycle_id = resolve_cycle()
    ingested = ingest(cycle_id)
    transformed = transform(cycle_id, ingested)
    validated = validate(cycle_id, transformed)
    reported = report(cycle_id, validated)
    alert(cycle_id, reported)


reporting_cycle()
