"""The same planted world on PostgreSQL gives the same findings as on DuckDB."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from planted_worlds import Planted, make_settings
from qa_tables import finding_ids, write_tables

from core.cycles import Cycle
from core.warehouse import Warehouse
from expectations import run_validation
from expectations.findings import FINDING_COLUMNS

CYCLE = Cycle.parse("2024-Y")


@pytest.mark.postgres
def test_postgres_url_gives_the_planted_findings(
    gx: ModuleType, tmp_path: Path, planted: Planted, postgres_url: str
) -> None:
    settings = make_settings(tmp_path, postgres_url)
    write_tables(postgres_url, [planted.world])

    summary = run_validation(settings, CYCLE)
    with Warehouse(postgres_url).connect() as con:
        findings = con.query_df("select * from quality.findings order by finding_key")
        runs = con.query_df("select * from quality.validation_runs")
    assert finding_ids(findings) == planted.expected
    assert summary.findings == len(planted.expected)
    assert list(findings.columns) == list(FINDING_COLUMNS)
    assert len(runs) == 4
    assert not runs["success"].all()

    run_validation(settings, CYCLE)
    with Warehouse(postgres_url).connect() as con:
        again = con.query_df("select * from quality.findings order by finding_key")
    assert again.equals(findings)
