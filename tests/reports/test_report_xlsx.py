"""The workbook: expected sheets and charts, figures as numbers, marks and withheld counts."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from report_support import CYCLE, DISTRICT, PROVINCE, Planted, report_path

from reports.load import load_report
from reports.render import ReportSummary
from reports.xlsx import SHEETS

pytestmark = pytest.mark.xdist_group("reports")


def header_row(ws: Worksheet) -> int:
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == "Mã\nCode" or row[0].value == "Số\nID":
            return row[0].row
    raise AssertionError(f"no header row in {ws.title}")


def table(ws: Worksheet) -> tuple[list[str], list[list[object]], int]:
    """(headers, rows of cells, first data row number) of the sheet's table."""
    top = header_row(ws)
    headers = [c.value for c in ws[top]]
    rows = []
    for r in ws.iter_rows(min_row=top + 1):
        if r[0].value is None:
            break
        rows.append(list(r))
    return headers, rows, top + 1  # type: ignore[return-value]


@pytest.fixture(scope="module")
def district_xlsx(rendered: ReportSummary) -> Path:
    return report_path(rendered, "district", DISTRICT, "xlsx")


def test_workbook_has_the_expected_sheets_and_charts(district_xlsx: Path) -> None:
    wb = openpyxl.load_workbook(district_xlsx)
    assert wb.sheetnames == list(SHEETS.values())
    with zipfile.ZipFile(district_xlsx) as z:
        charts = sorted(n for n in z.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n))
        xml = [z.read(n).decode() for n in charts]
        drawings = {
            n: z.read(n).decode()
            for n in z.namelist()
            if re.match(r"xl/worksheets/_rels/sheet\d+\.xml\.rels$", n)
        }
    # %, ‰ and /100.000 indicator charts (columns + a target line of markers), one trend line
    # chart per indicator measure, and one reporting-rate bar chart.
    assert len(xml) == 4 + 34
    combined = [x for x in xml if "<c:barChart>" in x and "<c:lineChart>" in x]
    assert len(combined) == 3
    assert sum("<c:barChart>" not in x and "<c:lineChart>" in x for x in xml) == 34
    assert sum('<c:barDir val="bar"/>' in x for x in xml) == 1
    assert all("Mục tiêu / Target" in x for x in combined)
    assert any("Tỷ lệ báo cáo / Reporting rate" in x for x in xml)
    # The charts plot cells of the workbook, not copies of numbers.
    assert all("<c:numRef>" in x for x in xml)
    charts_sheet = list(SHEETS).index("charts") + 1
    assert "drawing" in drawings[f"xl/worksheets/_rels/sheet{charts_sheet}.xml.rels"]


def test_indicator_figures_are_numbers_with_formats(district_xlsx: Path, warehouse: Path) -> None:
    report = load_report(str(warehouse), CYCLE, "district", DISTRICT)
    ws = openpyxl.load_workbook(district_xlsx)[SHEETS["indicators"]]
    headers, rows, _ = table(ws)
    assert headers[0] == "Mã\nCode"
    assert headers[1].startswith("Chỉ tiêu")  # type: ignore[union-attr]
    assert headers[6] == "Giá trị 2024-Y\nValue 2024-Y"
    assert [r[0].value for r in rows] == [i.indicator_code for i in report.indicators]
    for cells, ind in zip(rows, report.indicators, strict=True):
        for col, expected in (
            (4, ind.numerator),
            (5, ind.denominator),
            (6, ind.value),
            (10, ind.previous_value),
            (11, ind.change),
        ):
            cell = cells[col]
            if expected is None:
                assert cell.value is None
            else:
                assert cell.data_type == "n", (ind.indicator_code, col, cell.value)
                assert cell.value == pytest.approx(expected)
    ct03a = next(r for r in rows if r[0].value == "CT03a")
    assert ct03a[6].value == 9.5
    assert ct03a[6].number_format == '#,##0.0"‰"'
    assert (ct03a[7].value, ct03a[8].value) == ("<", 9.5)
    assert ct03a[9].value == "Chưa đạt / Not met"
    ct02 = next(r for r in rows if r[0].value == "CT02")
    assert (ct02[4].value, ct02[4].number_format) == (1234, "#,##0")
    # Status colours are conditional formats on the status column.
    ranges = [str(rng.sqref) for rng in ws.conditional_formatting]
    assert any(rng.startswith("J") for rng in ranges)


def test_findings_are_marked_beside_the_figures(district_xlsx: Path) -> None:
    wb = openpyxl.load_workbook(district_xlsx)
    _, rows, _ = table(wb[SHEETS["indicators"]])
    _, findings, first = table(wb[SHEETS["findings"]])
    births = next(f for f in findings if f[6].value == "live_births")
    for code in ("CT03a", "CT03b", "CT03c"):
        flag = next(r for r in rows if r[0].value == code)[16]
        assert str(flag.value).startswith("⚠")
        assert flag.hyperlink is not None
        assert flag.hyperlink.location.startswith(f"'{SHEETS['findings']}'!A")
        assert births[0].value in flag.comment.text
    unflagged = next(r for r in rows if r[0].value == "CT16")[16]
    assert unflagged.value is None
    assert births[0].value.startswith("F")
    assert first == header_row(wb[SHEETS["findings"]]) + 1


def test_small_commune_counts_are_withheld_in_the_workbook(
    district_xlsx: Path, planted: Planted
) -> None:
    wb = openpyxl.load_workbook(district_xlsx)
    headers, rows, _ = table(wb[SHEETS["breakdown"]])
    col = {str(h).split("\n")[0]: i for i, h in enumerate(headers)}
    by_code = {r[0].value: r for r in rows}
    assert by_code[planted.small_abused][col["CT09"]].value == "(<5)"
    assert by_code[planted.small_marriages][col["CT13"]].value == "<5"
    assert by_code[planted.complementary][col["CT13"]].value == "×"
    assert by_code[planted.zero_abused][col["CT09"]].value == 0
    many = by_code[planted.many_abused][col["CT09"]]
    assert many.data_type == "n" and many.value == pytest.approx(7 / 3000 * 100)
    # Everything else in the indicator columns is a number or blank, never text.
    withheld = {"<5", "(<5)", "×"}
    for r in rows:
        for cell in r[2 : col["CT01"] + 34]:
            assert cell.value is None or cell.data_type == "n" or cell.value in withheld
    _, findings, _ = table(wb[SHEETS["findings"]])
    abused = next(f for f in findings if f[6].value == "abused")
    assert (abused[7].value, abused[8].value) == ("<5", "<5")
    assert "3" not in abused[9].value


def test_returns_sheet_lists_every_reporter(district_xlsx: Path, warehouse: Path) -> None:
    report = load_report(str(warehouse), CYCLE, "district", DISTRICT)
    ws = openpyxl.load_workbook(district_xlsx)[SHEETS["reporting"]]
    headers, rows, _ = table(ws)
    assert headers[:5] == [
        "Mã\nCode",
        "Đơn vị báo cáo\nReporter",
        "Loại\nKind",
        "Tình trạng\nStatus",
        "Đã nhận\nReceived",
    ]
    assert [r[0].value for r in rows] == [r.reporter_code for r in report.reporting]
    labels = {
        "on_time": "Đúng hạn / On time",
        "late": "Muộn / Late",
        "missing": "Chưa nộp / Missing",
    }
    for cells, r in zip(rows, report.reporting, strict=True):
        assert cells[3].value == labels[r.status]
        assert cells[4].value is r.received
        if r.submitted_on:
            assert cells[6].value.date() == r.submitted_on


def test_province_workbook_breaks_down_by_district(rendered: ReportSummary) -> None:
    wb = openpyxl.load_workbook(report_path(rendered, "province", PROVINCE, "xlsx"))
    headers, rows, _ = table(wb[SHEETS["breakdown"]])
    assert headers[1] == "Huyện\nDistrict"
    assert len(rows) == 7
    rate = headers.index("Tỷ lệ báo cáo\nReporting rate")
    assert all(r[rate].data_type == "n" for r in rows)
    _, rates, _ = table(wb[SHEETS["rates"]])
    assert [r[3].value for r in rates[:3]] == ["Xã / Commune", "Cơ quan / Agency", "Tất cả / All"]
    assert len(rates) == 3 + 7
