"""The dbt targets: the product's (`prod`, `prod_postgres`) write the plain schemas analysts and
Python read; a developer's (`dev`, the default by hand, and `dev_postgres`) write `dev_*`
schemas, so a developer's `dbt build` never writes the production tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from core.warehouse import Warehouse
from tests.conftest import ROOT

PROJECT = ROOT / "dbt_project"
LAYERS = {"reference", "staging", "intermediate", "marts"}


@pytest.mark.parametrize(
    ("target", "prefix"),
    [("prod", ""), ("prod_postgres", ""), ("dev", "dev_"), ("dev_postgres", "dev_")],
)
def test_target_chooses_the_schemas(
    target: str, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CYCLE_DBT_TARGET", target)
    monkeypatch.setenv("CYCLE_DUCKDB_PATH", ":memory:")  # parsing opens no warehouse
    args = [
        "parse",
        "--quiet",
        "--log-level-file",
        "none",
        "--project-dir",
        str(PROJECT),
        "--profiles-dir",
        str(PROJECT),
    ]
    result = dbtRunner().invoke(
        [*args, "--target-path", str(tmp_path), "--log-path", str(tmp_path)]
    )
    assert result.success, result.exception
    nodes = result.result.nodes.values()
    written = {n.schema for n in nodes if n.resource_type in ("model", "seed")}
    assert written == {prefix + layer for layer in LAYERS}
    # the sources are read where ingest, `cycle validate` and the steps write them, whatever
    # the target
    assert {s.schema for s in result.result.sources.values()} == {"raw", "quality", "ops"}


def test_the_product_builds_with_the_prod_targets(tmp_path: Path) -> None:
    duckdb = Warehouse(str(tmp_path / "w.duckdb")).dbt_env()
    postgres = Warehouse("postgresql://postgres@127.0.0.1:5432/cycle").dbt_env()
    assert (duckdb["CYCLE_DBT_TARGET"], postgres["CYCLE_DBT_TARGET"]) == ("prod", "prod_postgres")
