"""Issue 11 item 7: a run holds a lock on its warehouse (core.warehouse.Warehouse.lock). A second
run waits, or exits with a message naming the holder, never a traceback; the lock dies with
its holder (kill -9); an analyst's DuckDB session holding the file is named the same way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.warehouse import ADVISORY_LOCK_KEY, LOCK_HOLDER_ENV, Warehouse, WarehouseBusy
from cycle.cli import main

ROOT = Path(__file__).resolve().parents[2]

HOLD = """
import sys
from core.warehouse import Warehouse
with Warehouse(sys.argv[1]).lock("cycle run 2024-Y"):
    print("held", flush=True)
    sys.stdin.read()
"""
SPAWN = """
import multiprocessing, sys
from core.warehouse import Warehouse
from tests.cycle.test_warehouse_lock import take
with Warehouse(sys.argv[1]).lock("cycle run", 0):
    child = multiprocessing.get_context("spawn").Process(target=take, args=(sys.argv[1],))
    child.start()
    child.join()
sys.exit(child.exitcode)
"""
ANALYST = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("held", flush=True)
sys.stdin.read()
"""


def holder(script: str, warehouse: str) -> subprocess.Popen[str]:
    """A process that holds the warehouse until its stdin closes; returns once it holds it."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, warehouse],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "held\n"
    return process


@pytest.fixture
def duckdb_file(tmp_path: Path) -> str:
    import duckdb

    path = tmp_path / "warehouse" / "warehouse.duckdb"
    path.parent.mkdir()
    duckdb.connect(str(path)).close()
    return str(path)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield request.getfixturevalue("duckdb_file")
    else:
        yield request.getfixturevalue("postgres_url")


def release(process: subprocess.Popen[str], kill: bool = False) -> None:
    if kill:
        os.kill(process.pid, signal.SIGKILL)
    else:
        assert process.stdin is not None
        process.stdin.close()
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def test_a_second_run_is_told_who_holds_the_warehouse(warehouse: str) -> None:
    first = holder(HOLD, warehouse)
    try:
        with pytest.raises(WarehouseBusy) as busy, Warehouse(warehouse).lock("cycle ingest", 0):
            pass
        message = str(busy.value)
        assert "the warehouse is busy" in message and "cycle run 2024-Y" in message
        assert f"pid {first.pid}" in message
    finally:
        release(first)
    with Warehouse(warehouse).lock("cycle ingest", 0):
        pass


def test_a_killed_holder_releases_the_lock(warehouse: str) -> None:
    first = holder(HOLD, warehouse)
    release(first, kill=True)
    # the server notices the dead client's closed socket at once; waiting covers a slow host
    with Warehouse(warehouse).lock("cycle ingest", 30):
        pass


def test_steps_inside_a_run_share_its_lock(duckdb_file: str) -> None:
    """`cycle run` holds the lock and its steps take it again (re-entrant), as do the worker
    processes it starts (they inherit the holder through the environment)."""
    warehouse = Warehouse(duckdb_file)
    with warehouse.lock("cycle run", 0), warehouse.lock("cycle ingest", 0):
        unrelated = {k: v for k, v in os.environ.items() if k != LOCK_HOLDER_ENV}
        other = subprocess.run(
            [sys.executable, "-c", HOLD, duckdb_file],
            cwd=ROOT,
            input="",
            capture_output=True,
            text=True,
            env={**unrelated, "CYCLE_LOCK_WAIT": "0"},
            check=False,
        )
        # a process that did not inherit the holder (not started by it): another run, refused
        assert other.returncode != 0 and "WarehouseBusy" in other.stderr
    with warehouse.lock("cycle ingest", 0):  # released
        pass
    spawned = subprocess.run(
        [sys.executable, "-c", SPAWN, duckdb_file],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "CYCLE_LOCK_WAIT": "0"},
        check=False,
    )
    assert spawned.returncode == 0, spawned.stderr


def take(warehouse: str) -> None:
    """In a spawned child: its parent's lock is its own."""
    with Warehouse(warehouse).lock("cycle run", 0):
        pass


@pytest.mark.postgres
def test_a_second_run_waits_for_the_first(postgres_url: str) -> None:
    """With time to wait, a second run waits on the advisory lock (seen in pg_locks, not
    guessed by sleeping) and goes on once the first run ends."""
    import psycopg

    first = holder(HOLD, postgres_url)
    second = subprocess.Popen(
        [sys.executable, "-c", HOLD, postgres_url],
        cwd=ROOT,
        env={**os.environ, "CYCLE_LOCK_WAIT": "600"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with psycopg.connect(postgres_url, autocommit=True) as pg:
            waiting = 0
            while not waiting:
                row = pg.execute(
                    "select count(*) from pg_locks where locktype = 'advisory' and not granted "
                    "and (classid::bigint << 32 | objid::bigint) = %s",
                    [ADVISORY_LOCK_KEY],
                ).fetchone()
                waiting = row[0] if row else 0
                assert second.poll() is None
    finally:
        release(first)
    assert second.stdout is not None
    assert second.stdout.readline() == "held\n"
    release(second)
    assert second.returncode == 0


def test_an_analysts_duckdb_session_is_named(duckdb_file: str, tmp_path: Path) -> None:
    analyst = holder(ANALYST, duckdb_file)
    try:
        with pytest.raises(WarehouseBusy) as busy, Warehouse(duckdb_file).lock("cycle run", 0):
            pass
        assert f"PID {analyst.pid}" in str(busy.value)
        assert "close the session" in str(busy.value)
        result = CliRunner().invoke(
            main,
            ["ingest", "2024-Y", "--warehouse", duckdb_file, "--inbox", str(tmp_path)],
            env={"CYCLE_LOCK_WAIT": "0"},
        )
        assert result.exit_code == 1
        assert "the warehouse is busy" in result.output and "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    finally:
        release(analyst)
