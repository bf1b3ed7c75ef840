"""Issue 11 item 7: a `cycle transform` killed (SIGKILL) while dbt builds leaves its lock free and
reruns to the same tables as a run that was never interrupted, on DuckDB and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from core.settings import Settings
from core.warehouse import Warehouse
from cycle import steps
from cycle.transform import _work_dir, run_transform
from tests.transform.conftest import (
    STATE_RELATIONS,
    BuiltWarehouse,
    built_on_postgres,
    copy_built,
    read,
)
from tests.transform.test_late_return_postgres import relations
from tests.transform.test_quality_tables import late_return

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

ROOT = Path(__file__).resolve().parents[2]


def every_relation(built: BuiltWarehouse) -> dict[str, pd.DataFrame]:
    """Every table and view dbt builds, rows sorted on every column."""
    with Warehouse(built.settings.warehouse).connect(read_only=True) as con:
        names = [
            f"{schema}.{table}"
            for schema, table in con.query(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('staging', 'intermediate', 'marts') order by 1, 2"
            )
        ]
    out = {}
    for name in (n for n in names if n not in STATE_RELATIONS):  # figures, not the ledger
        frame = read(built.settings, f"select * from {name}").astype(str)
        out[name] = frame.sort_values(list(frame.columns), ignore_index=True)
    return out


def built_models(log: Path) -> int:
    """How many models dbt's log says it has built so far."""
    if not log.is_file():
        return 0
    return log.read_text(encoding="utf-8", errors="replace").count(" OK created ")


def kill_midway(settings: Settings, log: Path) -> None:
    """`cycle transform 2022-Y` in a process of its own, killed (SIGKILL) once dbt has replaced
    a few models' rows, others still to come."""
    run = subprocess.Popen(
        [sys.executable, "-c", "from cycle.cli import main; main()", "transform", "2022-Y"],
        cwd=ROOT,
        env={**os.environ, **settings.as_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while built_models(log) < 3 and run.poll() is None:
        time.sleep(0.05)
    assert run.poll() is None, "the build finished before it could be killed"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()


def test_a_transform_killed_midway_reruns_to_the_same_tables(
    built_copy: BuiltWarehouse, tmp_path: Path
) -> None:
    late_return(built_copy, "2022-Y")
    uninterrupted = copy_built(built_copy, tmp_path / "uninterrupted")
    run_transform(uninterrupted.settings, Cycle.parse("2022-Y"))

    settings = built_copy.settings
    kill_midway(
        settings, Path(settings.warehouse).parent / ".dbt" / "warehouse" / "logs" / "dbt.log"
    )

    summary = steps.transform(settings, Cycle.parse("2022-Y"))  # takes the lock the run held

    assert summary.cycles_rebuilt == ["2022-Y", "2023-Y"] and summary.models_built > 0
    rerun, expected = every_relation(built_copy), every_relation(uninterrupted)
    assert rerun.keys() == expected.keys()
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(rerun[name], frame, obj=name)


@pytest.mark.postgres
def test_a_transform_killed_midway_on_postgresql_reruns_to_a_whole_rebuild(
    built: BuiltWarehouse, postgres_url: str, tmp_path: Path
) -> None:
    """On PostgreSQL: no relation is lost (each keeps its identity), and the rerun leaves the
    tables a whole rebuild of the cycle leaves."""
    on_pg = built_on_postgres(built, postgres_url, tmp_path)
    settings = on_pg.settings
    before = relations(postgres_url)
    late_return(on_pg, "2022-Y")

    log = _work_dir(Warehouse(postgres_url)) / "logs" / "dbt.log"
    log.unlink(missing_ok=True)
    kill_midway(settings, log)

    summary = steps.transform(settings, Cycle.parse("2022-Y"))  # takes the lock the run held

    assert summary.cycles_rebuilt == ["2022-Y", "2023-Y"] and summary.models_built > 0
    assert relations(postgres_url) == before  # nothing dropped, swapped or left missing
    rerun = every_relation(on_pg)
    run_transform(settings, Cycle.parse("2022-Y"), whole_cycle=True)
    whole = every_relation(on_pg)
    assert rerun.keys() == whole.keys()
    for name, frame in whole.items():
        pd.testing.assert_frame_equal(rerun[name], frame, obj=name)
