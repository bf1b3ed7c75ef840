"""Late returns without a person: which cycles are open, the cheap "anything new?" check, and
the `inbox_watch` DAG deciding, on its logical date, which cycle runs to trigger."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from core.calendar import grace_days_from_env, open_cycles, reporting_window
from core.cycles import Cycle
from tests.conftest import ROOT, settings_under

pytestmark = pytest.mark.xdist_group("airflow")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-12-04", ["2026-Y"]),
        ("2026-08-14", ["2026-H1", "2026-Y"]),  # H1: 15 June + 60 days
        ("2026-08-15", ["2026-Y"]),
        ("2027-02-13", ["2026-Y", "2027-H1", "2027-Y"]),  # Y: 15 December + 60 days
        ("2027-02-14", ["2027-H1", "2027-Y"]),
    ],
)
def test_a_cycle_is_open_from_its_first_day_to_its_deadline_plus_the_grace_days(
    day: str, expected: list[str]
) -> None:
    assert [c.id for c in open_cycles(date.fromisoformat(day))] == expected


def test_the_window_ends_after_the_latest_deadline_and_the_grace_days_are_configurable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert reporting_window(Cycle.parse("2024-Y"), 0) == (date(2024, 1, 1), date(2024, 12, 15))
    assert [c.id for c in open_cycles(date(2025, 1, 10), 0)] == ["2025-H1", "2025-Y"]
    monkeypatch.setenv("CYCLE_GRACE_DAYS", "30")
    assert grace_days_from_env() == 30
    monkeypatch.setenv("CYCLE_GRACE_DAYS", "two months")
    with pytest.raises(ValueError, match="CYCLE_GRACE_DAYS='two months' is not a whole number"):
        grace_days_from_env()


def _late_return(base: Path, inbox: Path, cycle: str) -> Path:
    """A return of the same district generated with another seed, dropped under a new name."""
    from devtools.generator import generate_inbox

    generate_inbox(base / "other", [cycle], districts=["106"], file_format="csv", seed=9)
    source = sorted((base / "other" / cycle).iterdir())[0]
    return Path(shutil.copy2(source, inbox / cycle / f"late-{source.name}"))


def test_pending_files_are_the_files_ingest_has_not_recorded(tmp_path: Path) -> None:
    from cycle import steps
    from devtools.generator import generate_inbox
    from ingest.pipeline import pending_files

    settings = settings_under(tmp_path)
    cycle = Cycle.parse("2024-Y")
    assert pending_files(settings, cycle) == []  # no inbox folder: nothing to do
    generate_inbox(settings.inbox, [cycle.id], districts=["106"], file_format="mixed", seed=5)
    names = sorted(p.name for p in (settings.inbox / cycle.id).iterdir())
    assert pending_files(settings, cycle) == names  # no warehouse yet: all of them

    steps.ingest(settings, cycle)
    assert pending_files(settings, cycle) == []
    touched = settings.inbox / cycle.id / names[0]
    os.utime(touched, (1_800_000_000, 1_800_000_000))  # same bytes, another time: not new
    assert pending_files(settings, cycle) == []
    late = _late_return(tmp_path, settings.inbox, cycle.id)
    assert pending_files(settings, cycle) == [late.name]
    steps.ingest(settings, cycle)
    assert pending_files(settings, cycle) == []


def _airflow(*args: str) -> str:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), *args],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )
    return result.stdout


def _runs(dag_id: str) -> list[dict[str, str]]:
    out = _airflow("dags", "list-runs", dag_id, "-o", "json")
    return list(json.loads(out.strip().splitlines()[-1]))  # after the CLI's warnings


@pytest.mark.slow
def test_inbox_watch_triggers_a_run_only_for_an_open_cycle_with_new_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from cycle import steps
    from devtools.generator import generate_inbox

    settings = settings_under(tmp_path)
    generate_inbox(settings.inbox, ["2024-Y"], districts=["106"], file_format="mixed", seed=5)
    steps.ingest(settings, Cycle.parse("2024-Y"))
    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    _airflow("db", "migrate")
    _airflow("dags", "reserialize")
    _airflow("dags", "unpause", "reporting_cycle")
    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["inbox_watch"]

    def watch(day: str) -> dict[str, str]:
        run = dag.test(logical_date=datetime.fromisoformat(f"{day}T10:00:00+00:00"))
        assert run.state == "success"
        return {ti.task_id: ti.state for ti in run.get_task_instances()}

    # 2024-Y open, everything already ingested: nothing triggered.
    assert watch("2025-01-20")["run_reporting_cycle"] == "skipped"
    # A late return after the window has closed: still nothing (no cycle of 2025 has an inbox).
    late = _late_return(tmp_path, settings.inbox, "2024-Y")
    assert watch("2025-06-01")["run_reporting_cycle"] == "skipped"
    assert _runs("reporting_cycle") == []
    # The same late return inside the window: one run of reporting_cycle for 2024-Y.
    states = watch("2025-01-21")
    assert states["cycles_with_new_returns"] == "success", states
    runs = _runs("reporting_cycle")
    assert [r["run_id"].split("__")[:2] for r in runs] == [["inbox_watch", "2024-Y"]], runs
    assert late.exists()  # the watcher never moves or deletes a return
