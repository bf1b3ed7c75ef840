"""The same dbt project builds on PostgreSQL and gives the same marts as on DuckDB."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cycles import Cycle
from cycle.transform import run_transform
from ingest.pipeline import ingest_cycle
from reports.load import ReportBuilder, load_cycle
from tests.transform.conftest import CYCLES, BuiltWarehouse, read, settings_under

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

FACTS = {
    "marts.fct_indicator_values": ["cycle", "unit_level", "unit_code", "indicator_code"],
    "marts.fct_return_status": ["cycle", "reporter_code"],
    "marts.fct_reporting_rates": ["cycle", "unit_level", "unit_code", "reporter_kind"],
    "marts.fct_element_values": ["cycle", "unit_level", "unit_code", "element_code"],
    "marts.fct_indicator_values_carried": ["cycle", "unit_level", "unit_code", "indicator_code"],
    "marts.fct_indicator_series": [
        "cycle",
        "hierarchy",
        "unit_level",
        "unit_code",
        "indicator_code",
    ],
    # the check-ready tables of the quality suites (history medians, z-scores, pivots)
    "intermediate.int_returns_checked": ["cycle", "reporter_code"],
    "intermediate.int_element_values_checked": [
        "cycle",
        "reporter_code",
        "unit_code",
        "element_code",
    ],
    "intermediate.int_indicator_values_checked": ["cycle", "unit_code", "indicator_code"],
    "intermediate.int_communes_checked": ["cycle", "unit_code"],
}


def plain(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return pd.Timestamp(value).isoformat()
    return str(value)


def comparable(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Values as plain Python objects, rows in key order, so both backends compare."""
    frame = frame.sort_values(key).reset_index(drop=True)
    out = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            out[column] = values.astype(float).round(9)
        else:
            out[column] = values.astype(object).where(values.notna(), None).map(plain)
    return pd.DataFrame(out)


@pytest.mark.postgres
def test_build_on_postgresql_gives_the_same_marts(
    built: BuiltWarehouse, postgres_url: str, tmp_path: Path
) -> None:
    settings = settings_under(tmp_path, warehouse=postgres_url)
    settings = settings.with_(inbox=built.settings.inbox)
    for cycle_id in CYCLES:
        ingest_cycle(settings, Cycle.parse(cycle_id))
    summary = run_transform(settings, Cycle.parse(CYCLES[-1]), unit_tests=True)
    assert summary.models_built == 51 and summary.unit_tests_passed == 18
    for name, key in FACTS.items():
        columns = ", ".join(read(built.settings, f"select * from {name} limit 0").columns)
        on_duckdb = comparable(read(built.settings, f"select {columns} from {name}"), key)
        on_postgres = comparable(read(settings, f"select {columns} from {name}"), key)
        assert len(on_postgres) == len(on_duckdb) > 0, name
        for column in on_duckdb.columns:
            left, right = on_duckdb[column], on_postgres[column]
            if left.dtype == float:
                same = np.isclose(left, right.astype(float), rtol=1e-9, equal_nan=True)
            else:
                same = (left == right) | (left.isna() & right.isna())
            assert same.all(), (
                name,
                column,
                on_duckdb.loc[~same, [*key, column]].head(),
                on_postgres.loc[~same, [*key, column]].head(),
            )
    # A post-reform province's report, its series carried across the reform included
    # (marts.fct_indicator_series, a view), reads the same from both backends.
    cycle = Cycle.parse(CYCLES[-1])
    on_duckdb_report = ReportBuilder(load_cycle(built.settings.warehouse, cycle))
    on_postgres_report = ReportBuilder(load_cycle(postgres_url, cycle))
    left = on_duckdb_report.build("province", "82")
    right = on_postgres_report.build("province", "82")
    assert left.trends == right.trends and left.hierarchy_changes == right.hierarchy_changes
    assert any(pt and pt.carried for t in right.trends for pt in t.points)
