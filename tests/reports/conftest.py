"""Warehouses with synthetic marts (see `report_marts`) and the reports written from them.

Province 58 (Ninh Thuận, 7 districts, 62 communes) before the reform, with planted figures in
district 584 (Huyện Bác Ái); province 12 (Lai Châu, 38 communes) after it; and a world whose
series cross the reform: 2022-Y to 2025-Y in the old provinces 82 and 87, which make today's
province 82.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from report_marts import SyntheticMarts, synthetic_marts, write_duckdb
from report_support import (
    CYCLE,
    POST_CYCLE,
    POST_PROVINCE,
    PROVINCE,
    TREND_CYCLES,
    Planted,
    district_issues,
    district_plants,
    planted_communes,
    settings_for,
)

from reports.render import ReportSummary, write_reports


@pytest.fixture(scope="session")
def planted() -> Planted:
    return planted_communes()


@pytest.fixture(scope="session")
def marts(planted: Planted) -> SyntheticMarts:
    return synthetic_marts(
        [CYCLE.previous_comparable, CYCLE],
        provinces=[PROVINCE],
        plants=district_plants(planted),
        issues=district_issues(planted),
    )


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory, marts: SyntheticMarts) -> Path:
    return write_duckdb(tmp_path_factory.mktemp("wh") / "warehouse.duckdb", marts)


@pytest.fixture(scope="session")
def post_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    post = synthetic_marts([POST_CYCLE], provinces=[POST_PROVINCE], seed=11)
    return write_duckdb(tmp_path_factory.mktemp("post") / "warehouse.duckdb", post)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory, warehouse: Path) -> ReportSummary:
    """The 2024-Y reports of province 58, written once for the xlsx, html and browser tests."""
    reports = tmp_path_factory.mktemp("out") / "reports"
    return write_reports(settings_for(warehouse, reports), CYCLE)


@pytest.fixture(scope="session")
def trend_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2022-Y to 2024-Y before the reform and 2025-Y after it; today's province 82 holds the
    earlier cycles carried across (report_marts._carried)."""
    marts = synthetic_marts(TREND_CYCLES, provinces=["82", "87"], seed=5)
    return write_duckdb(tmp_path_factory.mktemp("trend") / "warehouse.duckdb", marts)


@pytest.fixture(scope="session")
def trend_rendered(
    tmp_path_factory: pytest.TempPathFactory, trend_warehouse: Path
) -> ReportSummary:
    """The 2025-Y reports of the trend world (province 82 and the country)."""
    reports = tmp_path_factory.mktemp("trend-out") / "reports"
    return write_reports(settings_for(trend_warehouse, reports), TREND_CYCLES[-1])
