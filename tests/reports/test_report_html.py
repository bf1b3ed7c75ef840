"""The html page: self-contained, accessible, Vietnamese formatting, same content as the xlsx."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_support import CYCLE, DISTRICT, Planted, report_path

from reports import present as p
from reports.html import render_html
from reports.load import load_report
from reports.render import ReportSummary

pytestmark = pytest.mark.xdist_group("reports")


class Rows(HTMLParser):
    """The text of each table row by its first cell, per table id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> Rows:
    rows = Rows()
    rows.feed(html)
    return rows


@pytest.fixture(scope="module")
def district_html(rendered: ReportSummary) -> str:
    return report_path(rendered, "district", DISTRICT, "html").read_text(encoding="utf-8")


def test_page_is_self_contained_and_accessible(district_html: str) -> None:
    page = parse(district_html)
    assert district_html.startswith('<!doctype html>\n<html lang="vi">')
    title = re.search(r"<title>(.*?)</title>", district_html, re.S)
    assert title and "Huyện Bác Ái (584)" in title.group(1) and "2024-Y" in title.group(1)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    for _, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), value
    assert "@import" not in district_html and "url(" not in district_html
    svgs = [attrs for tag, attrs in page.tags if tag == "svg"]
    charts = [svg for svg in svgs if svg.get("class") == "chart"]
    assert len(charts) == 4  # %, ‰, /100.000 and the reporting rate
    trends = [svg for svg in svgs if svg.get("class") == "trend"]
    assert len(trends) == 34  # one per indicator measure with figures
    decorations = [svg for svg in svgs if svg.get("aria-hidden") == "true"]
    assert len(svgs) == len(charts) + len(trends) + len(decorations)
    for svg in charts + trends:
        assert svg["role"] == "img"
        ids = (svg["aria-labelledby"] or "").split()
        assert [f"{svg['id']}-title", f"{svg['id']}-desc"] == ids
    for tag, attrs in page.tags:
        if tag == "th" and attrs.get("scope") is None:
            raise AssertionError("a table header without scope")
    assert [
        t
        for t in (
            "indicator-table",
            "trend-table",
            "rates-table",
            "returns-table",
            "findings-table",
            "breakdown-table",
        )
        if t not in page.tables
    ] == []


def test_figures_are_formatted_the_vietnamese_way(district_html: str) -> None:
    rows = {r[0]: r for r in parse(district_html).tables["indicator-table"][1:]}
    _, _, numerator, denominator, value, target, status, *_ = rows["CT03a"]
    assert (numerator, denominator, value, target) == ("19", "2.000", "9,5‰", "< 9,5‰")
    assert status == "Chưa đạt / Not met"
    assert rows["CT02"][2:5] == ["1.234", "1.296", "95,2%"]
    assert rows["CT11a"][4].endswith("/100.000")
    assert "," in rows["CT11a"][4]
    assert rows["CT13"][4].endswith("cuộc")


def test_vi_number_helpers() -> None:
    assert p.vi_value(9.5, "‰", 1) == "9,5‰"
    assert p.vi_value(95.2049, "%", 1) == "95,2%"
    assert p.vi_count(1234) == "1.234"
    assert p.vi_count(1234567) == "1.234.567"
    assert p.vi_change(-0.84, 1) == "−0,8"
    assert p.vi_change(1.25, 2) == "+1,25"
    assert p.vi_value(None, "%", 1) == "–"


def test_small_commune_counts_are_withheld_in_the_page(
    district_html: str, planted: Planted
) -> None:
    page = parse(district_html)
    header = page.tables["breakdown-table"][0]
    col = {h.split(" ")[0]: i for i, h in enumerate(header)}
    rows = {r[0]: r for r in page.tables["breakdown-table"][1:]}
    ct09, ct13 = col["CT09"], col["CT13"]
    assert rows[planted.small_abused][ct09] == "(<5)"
    assert rows[planted.small_marriages][ct13] == "<5"
    assert rows[planted.complementary][ct13] == "×"
    assert rows[planted.zero_abused][ct09] == "0,00%"
    assert rows[planted.many_abused][ct09] == "0,23%"
    assert "0,12%" not in " ".join(rows[planted.small_abused])  # 3 / 2.500
    findings = {r[0]: r for r in page.tables["findings-table"][1:]}
    abused = next(r for r in findings.values() if r[4] == "abused")
    assert abused[5:7] == ["<5", "<5"]
    assert "Xã báo 3" not in district_html


def test_findings_are_linked_from_the_figures(district_html: str, warehouse: Path) -> None:
    report = load_report(str(warehouse), CYCLE, "district", DISTRICT)
    births = next(f for f in report.findings if f.element_code == "live_births")
    for code in ("CT03a", "CT03b", "CT03c"):
        row = re.search(rf'<tr id="ind-{code}".*?</tr>', district_html, re.S)
        assert row and f'href="#{births.finding_id}"' in row.group(0)
    assert f'<tr id="{births.finding_id}"' in district_html
    assert 'class="num flagged"' in district_html


def test_same_content_as_the_workbook(district_html: str, warehouse: Path) -> None:
    report = load_report(str(warehouse), CYCLE, "district", DISTRICT)
    page = parse(district_html)
    assert [r[0] for r in page.tables["indicator-table"][1:]] == [
        i.indicator_code for i in report.indicators
    ]
    assert [r[0] for r in page.tables["returns-table"][1:]] == [
        r.reporter_code for r in report.reporting
    ]
    assert [r[0] for r in page.tables["findings-table"][1:]] == [
        f.finding_id for f in report.findings
    ]
    assert [r[0] for r in page.tables["breakdown-table"][1:]] == [
        b.unit_code for b in report.breakdown
    ]
    assert render_html(report) == district_html


def test_index_links_every_report(rendered: ReportSummary) -> None:
    index = rendered.index.read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"#]+)"', index))
    expected = {path.name for r in rendered.reports for path in (r.xlsx, r.html)}
    assert links == expected
    assert '<html lang="vi">' in index and "<title>" in index


def test_a_value_next_to_its_target_shows_what_separates_them() -> None:
    from reports.model import IndicatorRow

    row = IndicatorRow(
        "CT02",
        "",
        "",
        "%",
        "higher",
        1,
        1,
        89.9934,
        13,
        13,
        "p",
        ">=",
        90.0,
        "not_met",
        100.0,
        None,
        None,
    )
    assert p.vi_value(row.value, "%", p.indicator_decimals(row)) == "89,99%"
    assert (
        p.indicator_decimals(
            IndicatorRow(
                "CT02",
                "",
                "",
                "%",
                "higher",
                1,
                1,
                91.2,
                13,
                13,
                "p",
                ">=",
                90.0,
                "met",
                100.0,
                None,
                None,
            )
        )
        == 1
    )
