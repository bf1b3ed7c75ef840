"""The same planted world on PostgreSQL gives the same findings as on DuckDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from planted_worlds import Planted, make_settings
from qa_tables import finding_ids, write_tables

from core.cycles import Cycle
from core.warehouse import Warehouse
from expectations import run_validation
from expectations.findings import FINDING_COLUMNS

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CYCLE = Cycle.parse("2024-Y")


@pytest.fixture
def pg_warehouse() -> Iterator[str]:
    """A throwaway database, dropped afterwards."""
    import psycopg

    name = f"qa_expectations_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.mark.postgres
def test_postgres_warehouse_gives_the_planted_findings(
    gx: ModuleType, tmp_path: Path, planted: Planted, pg_warehouse: str
) -> None:
    settings = make_settings(tmp_path, pg_warehouse)
    write_tables(pg_warehouse, [planted.world])

    summary = run_validation(settings, CYCLE)
    with Warehouse(pg_warehouse).connect() as con:
        findings = con.query_df("select * from quality.findings order by finding_key")
        runs = con.query_df("select * from quality.validation_runs")
    assert finding_ids(findings) == planted.expected
    assert summary.findings == len(planted.expected)
    assert list(findings.columns) == list(FINDING_COLUMNS)
    assert len(runs) == 4
    assert not runs["success"].all()

    run_validation(settings, CYCLE)
    with Warehouse(pg_warehouse).connect() as con:
        again = con.query_df("select * from quality.findings order by finding_key")
    assert again.equals(findings)
