"""Issue 11 item 10: a warehouse that cannot be opened ends the command with one clear line
(what is wrong, what to do) and a non-zero exit, never a traceback; nothing is changed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from cycle.cli import main
from tests.conftest import ROOT


def run(*args: str, tmp_path: Path) -> tuple[int, str]:
    """The command as a user runs it: an exception escaping it fails the test."""
    inbox = tmp_path / "inbox"
    (inbox / "2024-Y").mkdir(parents=True, exist_ok=True)
    common = ["--inbox", str(inbox), "--archive", str(tmp_path / "archive")]
    common += ["--reports", str(tmp_path / "reports")]
    result = CliRunner().invoke(main, [*args, *common], catch_exceptions=False)
    return result.exit_code, result.output


def assert_one_clear_line(code: int, output: str, *expected: str) -> None:
    assert code != 0, output
    assert "Traceback" not in output, output
    error_lines = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1, output
    for text in expected:
        assert text in error_lines[0], output


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_postgresql(tmp_path: Path) -> None:
    port = closed_port()
    url = f"postgresql://postgres:secret@127.0.0.1:{port}/warehouse"
    code, output = run("ingest", "2024-Y", "--warehouse", url, tmp_path=tmp_path)
    assert_one_clear_line(
        code,
        output,
        f"cannot reach PostgreSQL at postgresql://127.0.0.1:{port}/warehouse",
        "connection refused",
        "--warehouse / CYCLE_WAREHOUSE",
    )
    assert "secret" not in output


@pytest.mark.postgres
def test_missing_postgresql_database(tmp_path: Path) -> None:
    name = f"cpw_missing_{uuid.uuid4().hex[:10]}"
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    code, output = run("transform", "2024-Y", "--warehouse", url, tmp_path=tmp_path)
    assert_one_clear_line(code, output, f"database {name} does not exist", f"createdb {name}")


@pytest.mark.postgres
def test_unknown_postgresql_role(tmp_path: Path) -> None:
    url = "postgresql://nobody_here@127.0.0.1:5432/postgres"
    code, output = run("report", "2024-Y", "--warehouse", url, tmp_path=tmp_path)
    assert_one_clear_line(code, output, "cannot reach PostgreSQL", 'role "nobody_here"')


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:port/warehouse", "invalid PostgreSQL URL"),
        ("postgresql://[::1/warehouse", "invalid PostgreSQL URL"),
        ("mysql://user:secret@db/warehouse", "unsupported warehouse URL 'mysql://...'"),
    ],
)
def test_malformed_warehouse_url(url: str, expected: str, tmp_path: Path) -> None:
    code, output = run("ingest", "2024-Y", "--warehouse", url, tmp_path=tmp_path)
    assert_one_clear_line(code, output, expected, "CYCLE_WAREHOUSE")
    assert "secret" not in output
    assert not any(tmp_path.glob("mysql*"))  # no DuckDB file made of a mistyped URL


def test_warehouse_path_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "warehouse"
    folder.mkdir()
    code, output = run("ingest", "2024-Y", "--warehouse", str(folder), tmp_path=tmp_path)
    assert_one_clear_line(code, output, "is a folder, not a DuckDB file", "warehouse.duckdb")
    assert list(folder.iterdir()) == []


def test_warehouse_is_not_a_duckdb_file(tmp_path: Path) -> None:
    # e.g. the workbook or a file of another program given by mistake: left as it was
    wrong = tmp_path / "warehouse.duckdb"
    wrong.write_bytes(b"PK\x03\x04 not a database")
    for command in (["ingest", "2024-Y"], ["report", "2024-Y"], ["validate", "2024-Y"]):
        code, output = run(*command, "--warehouse", str(wrong), tmp_path=tmp_path)
        assert_one_clear_line(code, output, "is not a DuckDB database file")
    assert wrong.read_bytes() == b"PK\x03\x04 not a database"


def test_warehouse_folder_cannot_be_created(tmp_path: Path) -> None:
    in_the_way = tmp_path / "data"
    in_the_way.write_text("a file where the folder should be", encoding="utf-8")
    target = in_the_way / "warehouse" / "warehouse.duckdb"
    code, output = run("ingest", "2024-Y", "--warehouse", str(target), tmp_path=tmp_path)
    assert_one_clear_line(code, output, "cannot create the warehouse's folder", str(in_the_way))


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Path:
    """A folder nobody may write in: a chmod 555 folder, or for root (whom modes do not stop)
    sysfs, where no one can create a file."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def test_read_only_warehouse_folder(read_only_folder: Path, tmp_path: Path) -> None:
    target = read_only_folder / "warehouse.duckdb"
    code, output = run("ingest", "2024-Y", "--warehouse", str(target), tmp_path=tmp_path)
    assert_one_clear_line(code, output, f"cannot write the warehouse {target}")
    code, output = run(
        "ingest",
        "2024-Y",
        "--warehouse",
        str(read_only_folder / "new" / "w.duckdb"),
        tmp_path=tmp_path,
    )
    assert_one_clear_line(code, output, "cannot create the warehouse's folder")


def test_missing_warehouse_for_a_reading_step(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "warehouse.duckdb"
    code, output = run("report", "2024-Y", "--warehouse", str(target), tmp_path=tmp_path)
    assert_one_clear_line(code, output, f"there is no warehouse at {target} yet", "cycle run")
    assert not target.parent.exists()  # reading creates nothing


def test_cycle_before_any_hierarchy(tmp_path: Path) -> None:
    code, output = run("run", "2005-Y", tmp_path=tmp_path)
    assert code == 2 and "Traceback" not in output
    assert "'2005-Y' is before 2011" in output


def test_cycle_run_in_a_real_process(tmp_path: Path) -> None:
    """`cycle run` starts worker processes (dbt, GX): none of them prints a traceback either."""
    (tmp_path / "inbox" / "2024-Y").mkdir(parents=True)
    env = {**os.environ, "CYCLE_WAREHOUSE": f"postgresql://postgres@127.0.0.1:{closed_port()}/w"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cycle.cli",
            "run",
            "2024-Y",
            "--inbox",
            str(tmp_path / "inbox"),
            "--archive",
            str(tmp_path / "archive"),
            "--reports",
            str(tmp_path / "reports"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "cannot reach PostgreSQL" in done.stderr


def test_warehouse_in_use_by_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CYCLE_LOCK_WAIT", "0")  # the step's lock would wait for the holder
    target = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read()",
            str(target),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        code, output = run("ingest", "2024-Y", "--warehouse", str(target), tmp_path=tmp_path)
        assert_one_clear_line(code, output, "is in use by another process", f"PID {holder.pid}")
    finally:
        holder.communicate("")
