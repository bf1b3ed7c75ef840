"""The README's "Running it with Airflow" section, run as written: its bash blocks, in order, in
a fresh checkout-like folder (the project's `.venv` and `dags/`, a generated inbox under
`data/`), with a real `airflow standalone` on 127.0.0.1. The triggered run must succeed and give
the tables and reports `cycle run` gives, and Ctrl-C must leave nothing running."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.contacts import write_demo_contacts
from core.settings import Settings
from tests.alerts.alert_support import SmtpServer, start_server
from tests.conftest import ROOT
from tests.dags.test_reporting_cycle_run import TABLES, table

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow")]

CYCLE = "2024-Y"
STANDALONE = "airflow standalone"
RESTORE_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL);"
    " os.execvp('bash', ['bash', '-c', sys.argv[1]])"
)


def airflow_blocks() -> list[str]:
    """The bash blocks of the README's Airflow section, without Docker: environment, first
    shell, second shell, single process."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running it with Airflow", 1)[1].split("**Team deployment**")[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_section_has_the_commands_the_test_runs() -> None:
    env, first, second, single = airflow_blocks()
    assert env.startswith("export ") and ".venv/bin:$PATH" in env
    lines = [line.split("#")[0].strip() for line in first.splitlines()]
    assert lines[0] == "airflow db migrate" and lines[-1] == STANDALONE
    assert "airflow dags unpause reporting_cycle" in lines
    assert "airflow dags unpause inbox_watch" in lines
    assert f'airflow dags trigger reporting_cycle -c \'{{"cycle": "{CYCLE}"}}\'' in second
    assert "airflow dags test reporting_cycle" in single


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    controller, server = start_server()
    yield server
    controller.stop()


def _processes_of(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (this test's AIRFLOW_HOME): whatever process
    group or session they moved to."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def test_the_readme_airflow_commands_run_a_cycle_as_cycle_run_does(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    from devtools.generator import generate_inbox

    env_block, first, second, single = airflow_blocks()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in (".venv", "dags"):
        (checkout / name).symlink_to(ROOT / name)
    data = checkout / "data"
    generate_inbox(data / "inbox", [CYCLE], districts=["106"], file_format="mixed", seed=5)
    write_demo_contacts(data / "contacts.csv", ["106"])

    # The shell a new data engineer opens: no virtualenv on PATH, no Airflow variables; mail
    # to this test's SMTP server; free ports (another Airflow may run on this machine).
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "CYCLE_", "VIRTUAL_ENV", "PYTEST", "COV_"))
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))
    )
    env |= {
        "AIRFLOW_CONN_SMTP_DEFAULT": smtp.uri(),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(_free_port()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }
    marker = f"AIRFLOW_HOME={data / 'airflow'}"

    def shell(script: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", f"{env_block}\n{script}"],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            **kwargs,  # type: ignore[arg-type]
        )

    # The same cycle by the command line, into a warehouse of its own, first.
    cli = Settings.from_env(
        checkout,
        inbox=data / "inbox",
        warehouse=str(tmp_path / "cli" / "warehouse.duckdb"),
        reports=tmp_path / "cli" / "reports",
        archive=tmp_path / "cli" / "archive",
        contacts=data / "contacts.csv",
    )
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cycle"), "run", CYCLE],
        env=env | cli.as_env(),
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sent_by_cli = sorted(tuple(m.rcpt_tos) for m in smtp.received)
    smtp.clear()

    before, _, _ = first.partition(STANDALONE)
    result = shell(before)
    assert result.returncode == 0, result.stdout + result.stderr

    log_path = tmp_path / "standalone.log"
    with log_path.open("wb") as log:
        standalone = subprocess.Popen(
            # Ctrl-C is how the README stops it: undo the SIGINT a background shell ignores.
            [sys.executable, "-c", RESTORE_SIGINT, f"{env_block}\nexec {STANDALONE}"],
            cwd=checkout,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # What a person waits for before the second shell: the banner and the UI answering.
        _wait_for(lambda: "Airflow is ready" in log_path.read_text(errors="replace"), 300)
        _wait_for(lambda: _answers(f"http://127.0.0.1:{port}/api/v2/monitor/health"), 120)
        result = shell(second)
        assert result.returncode == 0, result.stdout + result.stderr
        runs = _wait_for(lambda: _finished_runs(shell), 1200)
        assert [r["state"] for r in runs] == ["success"], (runs, log_path.read_text())
    finally:
        # SIGINT to standalone alone: it stops its components in order. (Sent to the whole
        # group, as Ctrl-C does, the scheduler gets SIGINT and SIGTERM at once and leaves its
        # LocalExecutor workers running: seen in this test.)
        os.kill(standalone.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            standalone.wait(timeout=300)
        left = _wait_for(lambda: not _processes_of(marker), 60, default=False)
        for pid in _processes_of(marker):
            os.kill(pid, signal.SIGKILL)  # this test's own processes (its AIRFLOW_HOME)
            standalone.poll()
    assert standalone.returncode == 0, log_path.read_text(errors="replace")[-3000:]
    assert left, "processes left running after SIGINT"

    airflow = cli.with_(
        warehouse=str(data / "warehouse" / "warehouse.duckdb"),
        reports=data / "reports",
        archive=data / "archive",
    )
    for name, key in TABLES.items():
        import pandas as pd

        pd.testing.assert_frame_equal(
            table(cli, name, key), table(airflow, name, key), check_dtype=False
        )
    names = sorted(p.name for p in (cli.reports / CYCLE).glob("*.*"))
    assert names and names == sorted(p.name for p in (airflow.reports / CYCLE).glob("*.*"))
    assert sorted(tuple(m.rcpt_tos) for m in smtp.received) == sent_by_cli and sent_by_cli

    # The single-process way, on the same machine once standalone is stopped: nothing new.
    smtp.clear()
    result = shell(single)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "state=success" in result.stdout + result.stderr
    assert smtp.received == []


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _finished_runs(shell: object) -> list[dict[str, str]] | None:
    result = shell("airflow dags list-runs reporting_cycle -o json")  # type: ignore[operator]
    if result.returncode != 0:
        return None
    runs: list[dict[str, str]] = json.loads(result.stdout.strip().splitlines()[-1])
    if runs and all(r["state"] in ("success", "failed") for r in runs):
        return runs
    return None


def _wait_for(condition: object, bound: float, default: object = None) -> object:
    """Poll until `condition()` is truthy; after `bound` seconds give `default` (the caller's
    assertion then fails on what it finds, never on the time taken)."""
    end = time.monotonic() + bound
    while time.monotonic() < end:
        value = condition()  # type: ignore[operator]
        if value:
            return value
        time.sleep(3)
    return default
