"""
### Late returns: the open cycles' inboxes, checked every 30 minutes

Each run looks at the cycles that are *open* on its logical date (from the cycle's first day to
its latest deadline plus `CYCLE_GRACE_DAYS`, default 60 days) and triggers `reporting_cycle` for
each one whose inbox folder holds files that ingest has not recorded yet (new returns, or files
changed since). A run with nothing new lists the folders, reads the warehouse's record of them
and stops (skipped tasks), triggering nothing and sending nothing. It also stops, saying why in
its log, while a `reporting_cycle` run is queued or running (that run takes in what is there) or
while another process holds the DuckDB warehouse.

Why a schedule and not a sensor or an asset watcher: "changed since the last ingest" is known
only by comparing the inbox with the warehouse, which a file sensor cannot do; Airflow's file
event trigger deletes the files it sees; and a check that costs milliseconds every 30 minutes
keeps nothing waiting in the triggerer, shows each decision in the UI, and is keyed by the run's
logical date, so a re-run decides the same way.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import dag, get_current_context, task

TIMEZONE = "Asia/Ho_Chi_Minh"


@dag(
    dag_id="inbox_watch",
    description="Trigger reporting_cycle for open cycles whose inbox holds new returns",
    doc_md=__doc__,
    schedule="*/30 * * * *",
    start_date=pendulum.datetime(2021, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=20),
    tags=["child-programme", "reporting-cycle", "late-returns"],
    default_args={"owner": "data-engineering", "retries": 2, "retry_delay": timedelta(minutes=1)},
)
def inbox_watch() -> None:
    @task.short_circuit
    def cycles_with_new_returns() -> list[dict[str, Any]]:
        """One trigger request per open cycle with files not ingested yet; none: skip the rest."""
        from zoneinfo import ZoneInfo

        from core.calendar import grace_days_from_env, open_cycles
        from core.warehouse import WarehouseInUse
        from cycle import steps
        from ingest.pipeline import pending_files

        context = get_current_context()
        log = logging.getLogger("airflow.task")
        active = context["ti"].get_dr_count(dag_id="reporting_cycle", states=["queued", "running"])
        if active:
            log.info("A reporting_cycle run is queued or running: the next check sees what it left")
            return []
        when = context.get("logical_date") or context["dag_run"].run_after
        day = when.astimezone(ZoneInfo(TIMEZONE)).date()
        cycles = open_cycles(day, grace_days_from_env())
        if not cycles:
            log.info("No cycle is open on %s: nothing to check", day)
            return []
        settings = steps.settings()
        requests = []
        for cycle in cycles:
            try:
                pending = pending_files(settings, cycle)
            except WarehouseInUse as exc:
                # DuckDB: another process (a `cycle` command) is writing; look again next time.
                log.info("The warehouse is in use (%s): checked again at the next run", exc)
                return []
            if not pending:
                log.info("%s: nothing new in %s", cycle.id, settings.inbox / cycle.id)
                continue
            log.info(
                "%s: %d new or changed file(s) in %s (%s): triggering reporting_cycle",
                cycle.id,
                len(pending),
                settings.inbox / cycle.id,
                ", ".join(pending[:5]) + (", ..." if len(pending) > 5 else ""),
            )
            requests.append(
                {
                    "conf": {"cycle": cycle.id},
                    "trigger_run_id": f"inbox_watch__{cycle.id}__{context['run_id']}",
                }
            )
        return requests

    TriggerDagRunOperator.partial(
        task_id="run_reporting_cycle",
        trigger_dag_id="reporting_cycle",
        logical_date=None,
        skip_when_already_exists=True,  # a retried check triggers nothing twice
        fail_when_dag_is_paused=True,  # a paused reporting_cycle would queue runs forever
    ).expand_kwargs(cycles_with_new_returns())


inbox_watch()
