"""The national-cycle benchmark runs end to end on one province (a smoke test: figures are
printed, never asserted), and sets up its PostgreSQL database without touching another."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType
from urllib.parse import urlparse

import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL, ROOT


@pytest.fixture
def benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "national_cycle", ROOT / "benchmarks" / "national_cycle.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["national_cycle"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.xdist_group("benchmark")
def test_the_benchmark_runs_on_one_province(
    benchmark: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = benchmark
    code = module.main(
        ["--provinces", "12", "--baseline-sample", "20", "--workdir", str(tmp_path / "b")]
    )
    out = capsys.readouterr().out
    assert code == 0
    for figure in (
        "returns/s",
        "seconds per step: ingest",
        "peak memory",
        "warehouse size",
        "again after one late return",
        "Baseline (pandas + openpyxl",
        "x the baseline",
        "Whole cycle against the baseline's reading time",
        "Re-run after one late return against the whole cycle",
    ):
        assert figure in out, figure


def databases() -> set[str]:
    with psycopg.connect(POSTGRES_ADMIN_URL) as admin:
        return {str(row[0]) for row in admin.execute("select datname from pg_database")}


@pytest.mark.postgres
def test_the_benchmark_creates_and_drops_its_database(
    benchmark: ModuleType, postgres_url: str
) -> None:
    missing = f"cpw_bench_{uuid.uuid4().hex[:10]}"
    with benchmark.postgres_database(urlparse(postgres_url)._replace(path=f"/{missing}").geturl()):
        assert missing in databases()
    assert missing not in databases()

    name = urlparse(postgres_url).path.lstrip("/")
    with benchmark.postgres_database(postgres_url):  # an empty database given: used, kept
        pass
    assert name in databases()
    with psycopg.connect(postgres_url, autocommit=True) as pg:
        pg.execute("create schema raw")
    with pytest.raises(SystemExit, match="not empty"), benchmark.postgres_database(postgres_url):
        pass


def test_the_benchmark_takes_only_a_postgresql_url(benchmark: ModuleType) -> None:
    with pytest.raises(SystemExit):
        benchmark.main(["--warehouse", "mysql://somewhere/db"])
