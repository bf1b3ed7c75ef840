"""The Airflow DAG: integrity (it parses fast, with docs, tags, retries, no heavy imports) and a
`dag.test()` run of a whole cycle that must give what `cycle run` gives."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from core.cycles import Cycle
from tests.conftest import ROOT

pytestmark = pytest.mark.xdist_group("airflow")


@pytest.fixture(scope="module")
def dagbag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_every_dag_imports_without_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {"reporting_cycle", "inbox_watch"}
    dag_files = [p for p in (ROOT / "dags").glob("*.py") if p.name != "__init__.py"]
    assert len(dag_files) == len(dagbag.dags)  # one DAG per file
    assert not any(p.name.startswith("dbt_") for p in dag_files)  # dbt would import them


def test_reporting_cycle_is_documented_tagged_and_retried(dagbag: Any) -> None:
    dag = dagbag.dags["reporting_cycle"]
    assert dag.doc_md and "Reporting cycle" in dag.doc_md
    assert {"child-programme", "reporting-cycle"} <= set(dag.tags)
    assert dag.catchup is False and dag.max_active_runs == 1
    assert [t.task_id for t in dag.topological_sort()] == [
        "resolve_cycle",
        "ingest",
        "transform",
        "validate",
        "report",
        "alert",
        "signoff_requested",
        "offices_to_approve",
        "approve_office",
        "report_approved",
        "provinces_to_approve",
        "approve_province",
        "publish",
    ]
    for task in dag.tasks:
        assert task.retries >= 2
    assert set(dag.params.keys()) == {"cycle", "dry_run_alerts", "signoff", "signoff_wait_days"}


def test_sign_off_is_asked_by_airflow_human_in_the_loop_questions(dagbag: Any) -> None:
    from airflow.providers.standard.operators.hitl import HITLOperator

    from cycle.steps import SIGNOFF_APPROVE, SIGNOFF_NOT_APPROVED

    dag = dagbag.dags["reporting_cycle"]
    # off by default: the runs inbox_watch starts, and the README's, end after the alerts
    assert dag.params["signoff"] is False and dag.params["signoff_wait_days"] == 14
    for task_id in ("approve_office", "approve_province"):
        question = dag.get_task(task_id)
        assert issubclass(question.operator_class, HITLOperator)  # one mapped task per unit
        kwargs = question.partial_kwargs
        assert kwargs["options"] == [SIGNOFF_APPROVE, SIGNOFF_NOT_APPROVED]
        # a wait that ends unanswered records nothing and lets the run end
        assert kwargs["defaults"] == [SIGNOFF_NOT_APPROVED]
        assert not kwargs.get("multiple")
    assert dag.get_task("signoff_requested").ignore_downstream_trigger_rules
    for task_id in ("report_approved", "provinces_to_approve", "publish"):
        # a wave with nobody to ask (skipped) still leads to the final reports
        assert dag.get_task(task_id).trigger_rule == "none_failed"


def test_no_dated_schedule_runs_a_cycle_that_has_nothing_to_do(dagbag: Any) -> None:
    # Unpaused on 4 December 2026, the old "20 June and 20 December" schedule started a run
    # for 2026-H1, whose inbox did not exist. Scheduled work comes from inbox_watch only.
    from airflow.sdk.definitions.timetables.simple import NullTimetable

    assert isinstance(dagbag.dags["reporting_cycle"].timetable, NullTimetable)
    watch = dagbag.dags["inbox_watch"]
    assert watch.catchup is False and watch.max_active_runs == 1
    assert [t.task_id for t in watch.topological_sort()] == [
        "cycles_with_new_returns",
        "run_reporting_cycle",
    ]


def test_parsing_the_dag_imports_nothing_heavy() -> None:
    code = (
        "import sys, time; t = time.perf_counter();"
        "from airflow.dag_processing.dagbag import DagBag;"
        f"b = DagBag(dag_folder={str(ROOT / 'dags')!r});"
        "heavy = [m for m in ('great_expectations', 'dbt.cli', 'pandas', 'duckdb', 'xlsxwriter')"
        " if m in sys.modules];"
        "print(__import__('json').dumps({'heavy': heavy,"
        " 'seconds': sum(s.duration.total_seconds() for s in b.dagbag_stats)}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], result
    print(f"the DAG files parse in {result['seconds']:.3f} s")


@pytest.mark.parametrize(
    ("day", "expected"),
    [("2024-06-20", "2024-H1"), ("2024-12-20", "2024-Y"), ("2025-01-03", "2025-H1")],
)
def test_the_default_cycle_is_the_one_the_run_date_falls_in(day: str, expected: str) -> None:
    from datetime import date

    assert Cycle.containing(date.fromisoformat(day)).id == expected


def test_the_cycle_param_is_validated(dagbag: Any) -> None:
    from airflow.sdk.definitions.param import ParamsDict

    params = dagbag.dags["reporting_cycle"].params
    assert isinstance(params, ParamsDict)
    params.validate()  # the defaults are valid
    bad = ParamsDict({"cycle": params.get_param("cycle")})
    bad["cycle"] = "2024-H1"
    with pytest.raises(Exception, match=r"H3|does not match|pattern"):
        bad["cycle"] = "2024-H3"
