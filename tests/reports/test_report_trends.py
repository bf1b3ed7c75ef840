"""Issue 14, trends: each indicator's series on the report's unit, carried across the reform for
today's units, in the html (SVG line charts, reform mark, target line, table) and the xlsx."""

from __future__ import annotations

import dataclasses
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from report_support import (
    CYCLE,
    DISTRICT,
    TREND_CYCLES,
    TREND_PROVINCE,
    report_path,
    settings_for,
)
from test_report_html import parse

from core.cycles import Cycle
from core.warehouse import Warehouse
from reports import present as p
from reports.load import ReportBuilder, load_cycle
from reports.render import ReportSummary, write_reports
from reports.xlsx import SHEETS

pytestmark = pytest.mark.xdist_group("reports")

POST = TREND_CYCLES[-1]


def series_row(warehouse: Path, cycle: str, code: str, indicator: str) -> dict[str, Any]:
    """A row of marts.fct_indicator_series of today's province `code`."""
    with Warehouse(str(warehouse)).connect(read_only=True) as con:
        frame = con.query_df(
            "select * from marts.fct_indicator_series where hierarchy = 'post_reform' "
            "and unit_level = 'province' and unit_code = ? and cycle = ? and indicator_code = ?",
            [code, cycle, indicator],
        )
    assert len(frame) == 1
    return dict(frame.iloc[0])


def svg_of(html: str, chart_id: str) -> str:
    found = re.search(rf'<svg[^>]* id="{chart_id}".*?</svg>', html, re.S)
    assert found, chart_id
    return found.group(0)


@pytest.fixture(scope="module")
def province_html(trend_rendered: ReportSummary) -> str:
    page = report_path(trend_rendered, "province", TREND_PROVINCE, "html")
    return page.read_text(encoding="utf-8")


def test_a_post_reform_province_shows_its_carried_2024_point_and_the_reform_mark(
    trend_warehouse: Path, province_html: str
) -> None:
    carried = series_row(trend_warehouse, "2024-Y", TREND_PROVINCE, "CT02")
    assert carried["series_basis"] == "carried_across_reform"
    svg = svg_of(province_html, "trend-CT02")
    points = re.findall(r'<circle class="pt (\w+)" data-cycle="([^"]+)"', svg)
    assert points == [
        ("carried", "2022-Y"),
        ("carried", "2023-Y"),
        ("carried", "2024-Y"),
        ("reported", "2025-Y"),
    ]
    # the change of hierarchy, from the seed: between 2024-Y and 2025-Y, dated 1 July 2025
    assert re.search(
        r'<g class="reform" data-after="2024-Y" data-before="2025-Y">.*?01/07/2025', svg
    )
    # every segment touches a carried point: dashed
    assert '<path class="line carried"' in svg and '<path class="line reported"' not in svg
    assert '<path class="target"' in svg  # CT02's plan target (≥ 90%) as a line
    assert 'class="divided"' in svg  # the old province 87 had divided communes

    # The table beside the charts holds the same figures, the carried ones marked.
    table = parse(province_html).tables["trend-table"]
    assert table[0][2:6] == [
        f"2022-Y {p.CARRIED_MARK} {p.CARRIED[0]}",
        f"2023-Y {p.CARRIED_MARK} {p.CARRIED[0]}",
        f"2024-Y {p.CARRIED_MARK} {p.CARRIED[0]}",
        "2025-Y",
    ]
    row = next(r for r in table if r[0] == "CT02")
    value = p.vi_value(carried["value"], "%", 1)
    assert row[4] == f"{value} {p.CARRIED_MARK}{p.DIVIDED_MARK}"
    assert row[-1] == "≥ 90% (Kế hoạch thanhbinh-2023)"  # the plan's, as the row says
    assert '<td class="num reform-start"' in province_html  # the 2025-Y column


def test_the_country_series_crosses_the_reform_against_the_national_target(
    trend_warehouse: Path, trend_rendered: ReportSummary
) -> None:
    html = report_path(trend_rendered, "country", "VN", "html").read_text(encoding="utf-8")
    svg = svg_of(html, "trend-CT02")
    assert re.findall(r'data-cycle="([^"]+)"', svg) == [c.id for c in TREND_CYCLES]
    # carried too (the country is a unit of both hierarchies), but its own rows are shown
    assert 'class="pt carried"' not in svg
    assert 'data-after="2024-Y" data-before="2025-Y"' in svg
    # the country has no plan: the national milestone of 2025 is its target line
    report = ReportBuilder(load_cycle(str(trend_warehouse), POST)).build("country", "VN")
    national = [
        t
        for t in report.trends
        if t.target_source == "national" and p.level_target(t.target_comparator, t.target_value)
    ]
    assert national
    for trend in national:
        svg = svg_of(html, f"trend-{trend.indicator_code}")
        assert '<path class="target"' in svg
        assert "(Quốc gia 2025)" in svg


def test_a_pre_reform_report_shows_its_own_cycles_up_to_its_cycle(
    rendered: ReportSummary,
) -> None:
    html = report_path(rendered, "district", DISTRICT, "html").read_text(encoding="utf-8")
    svg = svg_of(html, "trend-CT02")
    assert re.findall(r'<circle class="pt (\w+)" data-cycle="([^"]+)"', svg) == [
        ("reported", CYCLE.previous_comparable.id),
        ("reported", CYCLE.id),
    ]
    assert 'class="reform"' not in svg and "reform-note" not in html
    assert '<path class="line reported"' in svg and '<path class="line carried"' not in svg


def test_the_series_stops_at_the_reports_cycle_and_keeps_to_its_kind(
    trend_warehouse: Path,
) -> None:
    builder = ReportBuilder(load_cycle(str(trend_warehouse), TREND_CYCLES[1]))
    report = builder.build("province", "87")
    assert report.trend_cycles == ["2022-Y", "2023-Y"]
    assert report.hierarchy_changes == []
    assert not any(pt and pt.carried for t in report.trends for pt in t.points)
    half_year = ReportBuilder(load_cycle(str(trend_warehouse), Cycle.parse("2023-H1")))
    assert half_year.series == {}


def test_one_cycle_is_no_trend_and_a_single_value_draws_no_chart(
    trend_warehouse: Path,
) -> None:
    first = ReportBuilder(load_cycle(str(trend_warehouse), TREND_CYCLES[0]))
    report = first.build("province", "87")
    assert (report.trend_cycles, report.trends) == ([], [])
    later = ReportBuilder(load_cycle(str(trend_warehouse), TREND_CYCLES[1])).build("province", "87")
    assert later.trends and all(t.charted for t in later.trends if t.points[0] and t.points[1])
    one_value = dataclasses.replace(later.trends[0], points=(later.trends[0].points[1], None))
    assert not one_value.charted


def test_screen_readers_get_the_series_in_words(province_html: str) -> None:
    svg = svg_of(province_html, "trend-CT02")
    assert 'role="img"' in svg
    assert 'aria-labelledby="trend-CT02-title trend-CT02-desc"' in svg
    title = re.search(r'<title id="trend-CT02-title">(.*?)</title>', svg, re.S)
    desc = re.search(r'<desc id="trend-CT02-desc">(.*?)</desc>', svg, re.S)
    assert title and desc
    assert title.group(1).startswith("CT02 — ") and "2022-Y–2025-Y" in title.group(1)
    words = desc.group(1)
    assert re.fullmatch(
        rf"{p.CARRIED[0]}: 2022-Y [0-9,]+%\*, 2023-Y [0-9,]+%\*, 2024-Y [0-9,]+%\*; "
        rf"{p.AS_REPORTED[0]}: 2025-Y [0-9,]+% \(\*: {p.DIVIDED[0]}\); .*",
        words,
    ), words
    assert "mục tiêu kỳ 2025-Y: ≥ 90% (Kế hoạch thanhbinh-2023)" in words
    assert "đổi hệ thống hành chính giữa 2024-Y và 2025-Y" in words
    # the legend's swatches are decoration: hidden from screen readers, their words beside
    legend = re.search(r'<ul class="trend-legend">.*?</ul>', province_html, re.S)
    assert legend and legend.group(0).count('aria-hidden="true"') == 4
    assert p.CARRIED[0] in legend.group(0) and p.DIVIDED[0] in legend.group(0)


def test_the_workbook_holds_the_series_and_draws_it(
    trend_warehouse: Path, trend_rendered: ReportSummary
) -> None:
    path = report_path(trend_rendered, "province", TREND_PROVINCE, "xlsx")
    wb = openpyxl.load_workbook(path)
    assert list(SHEETS.values()).index(SHEETS["trends"]) == wb.sheetnames.index("Xu hướng - Trends")
    ws = wb[SHEETS["trends"]]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    head = next(n for n, row in enumerate(cells) if row[0] == "Mã\nCode")
    assert cells[head][3:8] == [
        f"2022-Y {p.CARRIED_MARK}",
        f"2023-Y {p.CARRIED_MARK}",
        f"2024-Y {p.CARRIED_MARK}",
        "2025-Y",
        "Mục tiêu 2025-Y\nTarget",
    ]
    ct02 = next(row for row in cells[head:] if row[0] == "CT02")
    for n, cycle in enumerate(c.id for c in TREND_CYCLES):
        expected = series_row(trend_warehouse, cycle, TREND_PROVINCE, "CT02")["value"]
        assert ct02[3 + n] == pytest.approx(expected)  # a number, not text
    carried_cell = ws.cell(head + 1 + [r[0] for r in cells[head + 1 :]].index("CT02") + 1, 6)
    assert carried_cell.font.i and carried_cell.fill.fgColor.rgb.endswith("E4DFEC")

    # every point, with its basis and the divided-commune mark
    detail = next(n for n, row in enumerate(cells) if row[:2] == ["Mã\nCode", "Kỳ\nCycle"])
    points = {(r[0], r[1]): r for r in cells[detail + 1 :] if r[0]}
    assert points[("CT02", "2024-Y")][8] == p.both(p.CARRIED)
    assert points[("CT02", "2024-Y")][9] is True
    assert points[("CT02", "2025-Y")][8] == p.both(p.AS_REPORTED)

    with zipfile.ZipFile(path) as z:
        xml = [
            z.read(n).decode()
            for n in sorted(z.namelist())
            if re.match(r"xl/charts/chart\d+\.xml$", n)
        ]
    trends = [x for x in xml if "Xu hướng - Trends" in x]
    assert len(trends) == 34
    ct02_chart = next(x for x in trends if "CT02 — " in x)
    assert "<c:lineChart>" in ct02_chart and "<c:barChart>" not in ct02_chart
    assert "Mục tiêu 2025-Y / Target" in ct02_chart  # the target, drawn as a series
    assert ct02_chart.count("<c:ser>") == 2
    assert ct02_chart.count('<a:srgbClr val="FFFFFF"/>') >= 3  # hollow carried markers


def test_a_changed_series_renders_again_the_report_that_shows_it(
    trend_warehouse: Path, tmp_path: Path
) -> None:
    """A late return to 2023-Y changes the series of today's province: its 2025-Y report is
    written again, and only it."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(trend_warehouse, warehouse)
    settings = settings_for(warehouse, tmp_path / "reports")
    first = write_reports(settings, POST)
    assert first.unchanged == 0
    with Warehouse(str(warehouse)).connect() as con:
        con.execute(
            "update marts.fct_indicator_series set value = 12.5 where cycle = '2023-Y' "
            f"and hierarchy = 'post_reform' and unit_code = '{TREND_PROVINCE}' "
            "and indicator_code = 'CT02'"
        )
    again = write_reports(settings, POST)
    assert again.unchanged == len(again.reports) - 1
    html = report_path(again, "province", TREND_PROVINCE, "html").read_text(encoding="utf-8")
    row = next(r for r in parse(html).tables["trend-table"] if r[0] == "CT02")
    assert row[3].startswith("12,5%")
