"""Issue 14, trends on the built warehouse: the reports read `marts.fct_indicator_series` as dbt
builds it (carried across the reform by the successions), not only synthetic tables."""

from __future__ import annotations

import pytest

from core.cycles import Cycle
from reports.html import render_html
from reports.load import ReportBuilder, load_cycle
from tests.transform.conftest import CYCLES, BuiltWarehouse, read

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse


def test_a_post_reform_province_report_shows_its_series_across_the_reform(
    built: BuiltWarehouse,
) -> None:
    cycle = Cycle.parse(CYCLES[-1])
    series = read(
        built.settings,
        "select cycle, value, series_basis from marts.fct_indicator_series "
        "where hierarchy = 'post_reform' and unit_level = 'province' and unit_code = '82' "
        "and indicator_code = 'CT02' order by cycle",
    )
    annual = series[series["cycle"].str.endswith("-Y")]
    assert list(annual["series_basis"]) == [
        *["carried_across_reform"] * (len(annual) - 1),
        "as_reported",
    ]
    report = ReportBuilder(load_cycle(built.settings.warehouse, cycle)).build("province", "82")
    assert report.trend_cycles == list(annual["cycle"])
    assert [(c.after_cycle, c.before_cycle) for c in report.hierarchy_changes] == [
        ("2024-Y", "2025-Y")
    ]
    ct02 = next(t for t in report.trends if t.indicator_code == "CT02")
    assert [pt.carried if pt else None for pt in ct02.points] == [
        basis == "carried_across_reform" for basis in annual["series_basis"]
    ]
    assert [pt.value if pt else None for pt in ct02.points] == pytest.approx(
        list(annual["value"]), nan_ok=True
    )
    html = render_html(report)
    assert 'class="pt carried" data-cycle="2024-Y"' in html
    assert 'data-after="2024-Y" data-before="2025-Y"' in html
