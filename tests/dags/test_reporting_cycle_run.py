"""A `dag.test()` run of the whole cycle on a generated inbox gives the same tables and reports
as `cycle run` does on the same inbox."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from core.settings import Settings
from core.warehouse import Warehouse
from tests.alerts.alert_support import SmtpServer, start_server
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow")]

CYCLES = ("2022-Y", "2023-Y", "2024-Y")
TABLES = {
    "marts.fct_indicator_values": ["cycle", "unit_level", "unit_code", "indicator_code"],
    "marts.fct_element_values": ["cycle", "unit_level", "unit_code", "element_code"],
    "marts.fct_return_status": ["cycle", "reporter_code"],
    "marts.fct_reporting_rates": ["cycle", "unit_level", "unit_code", "reporter_kind"],
    "marts.fct_quality_issues": ["cycle", "finding_key"],
    "raw.received_files": ["cycle", "file_name", "file_sha256"],
}


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    controller, server = start_server()
    yield server
    controller.stop()


@pytest.fixture(scope="module")
def airflow_db() -> None:
    """Airflow's metadata database (SQLite in this test process's AIRFLOW_HOME)."""
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )


def settings_in(base: Path, inbox: Path) -> Settings:
    return Settings(
        inbox=inbox,
        warehouse=str(base / "warehouse.duckdb"),
        reports=base / "reports",
        archive=base / "archive",
        contacts=inbox.parent / "contacts.csv",
    )


def table(settings: Settings, name: str, key: list[str]) -> pd.DataFrame:
    with Warehouse(settings.warehouse).connect(read_only=True) as con:
        frame = con.query_df(f"select * from {name}")
    volatile = ("archive_path", "run_key", "validated_at")  # paths and times of the runs
    frame = frame.drop(columns=[c for c in volatile if c in frame.columns])
    return frame.sort_values(key).reset_index(drop=True)


def test_dag_test_gives_what_cycle_run_gives(
    tmp_path: Path, smtp: SmtpServer, airflow_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alerts.contacts import write_demo_contacts
    from cycle import steps
    from devtools.generator import generate_inbox

    inbox = tmp_path / "inbox"
    generate_inbox(inbox, CYCLES, districts=["106", "874"], file_format="mixed", seed=5)
    write_demo_contacts(tmp_path / "contacts.csv", ["106", "874"])
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp.uri())
    by_cli = settings_in(tmp_path / "cli", inbox)
    by_dag = settings_in(tmp_path / "dag", inbox)

    # History first (both warehouses alike), then the cycle under test: by the CLI's code path...
    for settings in (by_cli, by_dag):
        steps.run(settings, [Cycle.parse(c) for c in CYCLES[:-1]])
    smtp.clear()
    steps.run(by_cli, [Cycle.parse(CYCLES[-1])])
    sent_by_cli = sorted(tuple(m.rcpt_tos) for m in smtp.received)
    smtp.clear()

    # ... and by Airflow, with the paths from the environment as a deployment sets them.
    for name, value in by_dag.as_env().items():
        monkeypatch.setenv(name, value)
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["reporting_cycle"]
    dag_run = dag.test(run_conf={"cycle": CYCLES[-1]})
    assert dag_run.state == "success"
    sent_by_dag = sorted(tuple(m.rcpt_tos) for m in smtp.received)

    for name, key in TABLES.items():
        pd.testing.assert_frame_equal(
            table(by_cli, name, key), table(by_dag, name, key), check_dtype=False
        )
    cli_reports = by_cli.reports / CYCLES[-1]
    dag_reports = by_dag.reports / CYCLES[-1]
    names = sorted(p.name for p in cli_reports.glob("*.*"))
    assert names and names == sorted(p.name for p in dag_reports.glob("*.*"))
    for name in names:
        if name.endswith(".html"):
            cli_html = (cli_reports / name).read_text(encoding="utf-8")
            dag_html = (dag_reports / name).read_text(encoding="utf-8")
            assert cli_html.replace(str(tmp_path / "cli"), "") == dag_html.replace(
                str(tmp_path / "dag"), ""
            )
    assert sent_by_dag == sent_by_cli and sent_by_cli  # each office alerted, by either path
