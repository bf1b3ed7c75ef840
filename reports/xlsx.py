"""The consolidated report as an Excel workbook (xlsxwriter), the format offices work in.

Sheets: summary, indicators against targets, charts, reporting rates, returns of every commune
and agency, quality findings, breakdown. Headers are bilingual, Vietnamese first. Figures stay
numbers with number formats (Excel shows them in the reader's locale); only withheld small
counts are text ("<5", see `reports.suppress`). Findings are marked beside the figures they touch
by a "⚠" cell that links to the findings sheet, with the messages in a cell comment.
"""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports import present as p
from reports.model import FindingRow, ReportData
from reports.suppress import DISPLAY, LEGEND_EN, LEGEND_VI

SHEETS = {
    "summary": "Tổng quan - Summary",
    "indicators": "Chỉ tiêu - Indicators",
    "charts": "Biểu đồ - Charts",
    "trends": "Xu hướng - Trends",
    "rates": "Tỷ lệ - Reporting rates",
    "reporting": "Báo cáo - Returns",
    "findings": "Phát hiện - Findings",
    "breakdown": "Phân tổ - Breakdown",
}

COLOURS = {
    "met": ("#C6EFCE", "#006100"),
    "not_met": ("#FFC7CE", "#9C0006"),
    "interim": ("#DDEBF7", "#1F4E78"),
    "no_target": ("#EDEDED", "#404040"),
    "unknown": ("#FFEB9C", "#9C5700"),
    "on_time": ("#C6EFCE", "#006100"),
    "late": ("#FFEB9C", "#9C5700"),
    "missing": ("#FFC7CE", "#9C0006"),
    "error": ("#FFC7CE", "#9C0006"),
    "warning": ("#FFEB9C", "#9C5700"),
}
HEADER_BG = "#1F4E78"
FLAG_BG = "#FCE4D6"
CHART_VALUE = "#2E75B6"
CHART_PREVIOUS = "#BFBFBF"
CHART_TARGET = "#C00000"
CHART_GOOD = "#548235"
CHART_POOR = "#C55A11"


def _h(key: str) -> str:
    """A bilingual header: Vietnamese, then English on a second line."""
    vi, en = p.COLUMNS[key]
    return f"{vi}\n{en}"


class _Formats:
    """Formats are created once per workbook and shared (xlsxwriter requires it)."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._cache: dict[tuple[tuple[str, Any], ...], Format] = {}
        self.base = {"font_name": "Arial", "font_size": 10, "valign": "top"}

    def __call__(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format({**self.base, **props})
        return self._cache[key]

    @functools.cached_property
    def header(self) -> Format:
        return self(
            bold=True,
            font_color="white",
            bg_color=HEADER_BG,
            text_wrap=True,
            valign="vcenter",
            border=1,
            border_color="#9BC2E6",
        )

    @functools.cached_property
    def text(self) -> Format:
        return self()

    @functools.cached_property
    def wrap(self) -> Format:
        return self(text_wrap=True)

    def number(self, decimals: int, unit: str = "", **extra: Any) -> Format:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        if unit in ("%", "‰"):
            pattern += f'"{unit}"'
        return self(num_format=pattern, **extra)

    @functools.cached_property
    def count(self) -> Format:
        return self(num_format="#,##0")

    def change(self, decimals: int, colour: str | None) -> Format:
        d = "." + "0" * decimals if decimals else ""
        extra = {"font_color": colour} if colour else {}
        return self(num_format=f"+#,##0{d};-#,##0{d};0{d}", **extra)

    @functools.cached_property
    def percent(self) -> Format:
        return self(num_format='0.0"%"')

    @functools.cached_property
    def date(self) -> Format:
        return self(num_format="dd/mm/yyyy", align="left")

    @functools.cached_property
    def suppressed(self) -> Format:
        return self(italic=True, font_color="#7F7F7F", align="right")

    @functools.cached_property
    def link(self) -> Format:
        return self(font_color="#C55A11", underline=1, bold=True)


def write_xlsx(report: ReportData, path: Path) -> Path:
    """Write the workbook of one report to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
            "in_memory": True,
        },
    )
    title_vi, title_en = p.unit_title(report)
    wb.set_properties(
        {
            "title": f"{p.TITLE[0]} — {title_vi} — {report.cycle}",
            "subject": f"{p.TITLE[1]} — {title_en} — {report.cycle}",
            "author": "Kho dữ liệu Chương trình hành động vì trẻ em",
            "comments": f"Nguồn / Source: {report.generated_from}",
            # A fixed date keeps a re-run's workbook byte-identical.
            "created": datetime(2000, 1, 1),
        }
    )
    f = _Formats(wb)
    sheets = {key: wb.add_worksheet(name) for key, name in SHEETS.items()}
    finding_rows = _write_findings(sheets["findings"], report, f)
    _write_indicators(sheets["indicators"], report, f, finding_rows)
    _write_charts(wb, sheets["charts"], report, f)
    _write_trends(wb, sheets["trends"], report, f)
    _write_rates(wb, sheets["rates"], report, f)
    _write_reporting(sheets["reporting"], report, f, finding_rows)
    _write_breakdown(sheets["breakdown"], report, f, finding_rows)
    _write_summary(sheets["summary"], report, f)
    sheets["summary"].activate()
    wb.close()
    return path


_PENDING = "Đã thay đổi sau lần phê duyệt / changed since the revision approved"


def _setup(ws: Worksheet) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)


def _heading(ws: Worksheet, f: _Formats, key: str, row: int = 0) -> int:
    vi, en = p.SECTIONS[key]
    ws.write(row, 0, vi, f(bold=True, font_size=14, font_color=HEADER_BG))
    ws.write(row + 1, 0, en, f(italic=True, font_color="#595959"))
    return row + 3


def _headers(
    ws: Worksheet, f: _Formats, row: int, keys: list[str], overrides: dict[int, str] | None = None
) -> None:
    ws.set_row(row, 30)
    for col, key in enumerate(keys):
        text = (overrides or {}).get(col) or _h(key)
        ws.write_string(row, col, text, f.header)


def _flag_link(
    ws: Worksheet,
    row: int,
    col: int,
    ids: tuple[str, ...],
    finding_rows: dict[str, int],
    f: _Formats,
    findings: dict[str, FindingRow] | None = None,
) -> None:
    """'⚠ 2' linking to the first finding's row, with the messages in a comment."""
    if not ids:
        return
    first = finding_rows[ids[0]]
    ws.write_url(
        row,
        col,
        f"internal:'{SHEETS['findings']}'!A{first + 1}",
        f.link,
        string=f"⚠ {len(ids)}",
        tip=", ".join(ids[:20]),
    )
    if findings is not None:
        lines = [f"{i}: {findings[i].message_vi} / {findings[i].message_en}" for i in ids[:8]]
        if len(ids) > 8:
            lines.append(f"… +{len(ids) - 8}")
        ws.write_comment(
            row, col, "\n".join(lines), {"x_scale": 4, "y_scale": 2.5, "font_name": "Arial"}
        )


def _status_formats(
    ws: Worksheet, f: _Formats, first: int, last: int, col: int, labels: dict[str, p.Pair]
) -> None:
    """Conditional colours on a status column (the cell text is the bilingual label)."""
    if last < first:
        return
    for key, pair in labels.items():
        if key not in COLOURS:
            continue
        bg, fg = COLOURS[key]
        ws.conditional_format(
            first,
            col,
            last,
            col,
            {
                "type": "cell",
                "criteria": "==",
                "value": f'"{p.both(pair)}"',
                "format": f.wb.add_format({"bg_color": bg, "font_color": fg}),
            },
        )


# -- indicators -----------------------------------------------------------------------------------

INDICATOR_COLUMNS = [
    "code",
    "indicator",
    "indicator",
    "unit",
    "numerator",
    "denominator",
    "value",
    "comparator",
    "target",
    "status",
    "previous",
    "change",
    "included",
    "in_force",
    "coverage",
    "plan",
    "findings",
    "wording",
]


def _write_indicators(
    ws: Worksheet, report: ReportData, f: _Formats, finding_rows: dict[str, int]
) -> None:
    _setup(ws)
    top = _heading(ws, f, "indicators")
    overrides = {
        1: "Chỉ tiêu\n(tiếng Việt)",
        2: "Indicator\n(English)",
        6: f"Giá trị {report.cycle}\nValue {report.cycle}",
        10: f"Kỳ trước {report.previous_cycle}\nPrevious {report.previous_cycle}",
    }
    _headers(ws, f, top, INDICATOR_COLUMNS, overrides)
    widths = [8, 48, 40, 9, 12, 12, 11, 9, 11, 19, 12, 10, 10, 8, 10, 22, 11, 60]
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    findings = report.findings_by_id()
    row = top
    for ind in report.indicators:
        row += 1
        d = p.indicator_decimals(ind)
        ws.write_string(row, 0, ind.indicator_code, f(bold=True))
        ws.write_string(row, 1, ind.name_vi, f.wrap)
        ws.write_string(row, 2, ind.name_en, f(text_wrap=True, font_color="#595959"))
        ws.write_string(row, 3, ind.unit)
        _number(ws, row, 4, ind.numerator, f.count)
        _number(ws, row, 5, ind.denominator, f.count)
        _number(ws, row, 6, ind.value, f.number(d, ind.unit, bold=True))
        if report.signoff.is_pending(report.unit.code, ind.indicator_code):
            ws.write_comment(row, 6, f"{p.PENDING_MARK} {_PENDING}", {"font_name": "Arial"})
        level_target = ind.target_comparator in p.COMPARATOR_SYMBOL
        if level_target:
            ws.write_string(
                row, 7, p.COMPARATOR_SYMBOL[ind.target_comparator or ""], f(align="center")
            )
            _number(ws, row, 8, ind.target_value, f.number(d, ind.unit))
        elif ind.target_comparator:
            # A fall against the previous year, or elimination: words, not a level.
            ws.write_string(row, 7, p.both(p.target_text(ind)))
        ws.write_string(row, 9, p.both(p.STATUS[ind.target_status]))
        _number(ws, row, 10, ind.previous_value, f.number(d, ind.unit))
        quality = p.change_quality(ind)
        colour = {"better": "#006100", "worse": "#9C0006"}.get(quality)
        _number(ws, row, 11, ind.change, f.change(d, colour))
        _number(ws, row, 12, ind.communes_included, f.count)
        _number(ws, row, 13, ind.communes_in_force, f.count)
        _number(ws, row, 14, ind.coverage_pct, f.percent)
        origin = p.target_origin(ind)
        if origin[0]:
            ws.write_string(row, 15, p.both(origin))
        _flag_link(ws, row, 16, ind.finding_ids, finding_rows, f, findings)
        if ind.target_text:
            note = f" — {ind.target_note_vi} / {ind.target_note_en}" if ind.target_note_vi else ""
            ws.write_string(row, 17, f"{ind.target_text}{note}")
    _status_formats(ws, f, top + 1, row, 9, p.STATUS)
    ws.freeze_panes(top + 1, 2)
    ws.autofilter(top, 0, max(row, top + 1), len(INDICATOR_COLUMNS) - 1)
    ws.write_string(
        row + 2,
        0,
        "Thay đổi: so với kỳ trước cùng loại, theo đơn vị của chỉ tiêu "
        "(điểm % với tỷ lệ %). / Change: against the previous comparable cycle, in "
        "the indicator's unit (percentage points for %).",
        f(italic=True),
    )
    notes = []
    if any(ind.target_source == "national" for ind in report.indicators):
        notes.append(p.both(p.NATIONAL_RULE, " / "))
    notes += [
        f"{ind.indicator_code} — {p.both(p.target_origin(ind))}: “{ind.target_text}”"
        + (f". {ind.target_note_vi}. / {ind.target_note_en}." if ind.target_note_vi else "")
        for ind in report.indicators
        if p.needs_wording(ind)
    ]
    for n, text in enumerate(notes):
        ws.write_string(row + 3 + n, 0, text, f(italic=True))


def _number(ws: Worksheet, row: int, col: int, value: float | int | None, fmt: Format) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, float(value), fmt)


# -- charts ---------------------------------------------------------------------------------------

CHART_GROUPS = [
    ("%", "Tỷ lệ (%)", "Rates (%)"),
    ("‰", "Tỷ suất (‰)", "Rates per 1,000 (‰)"),
    ("/100.000", "Tỷ suất trên 100.000 trẻ em", "Rates per 100,000 children"),
]


def _write_charts(wb: Workbook, ws: Worksheet, report: ReportData, f: _Formats) -> None:
    """One column chart per unit of measure: value, previous cycle, and the target as a marker.
    The data each chart plots is written beside it, so the chart is readable as a table too."""
    top = _heading(ws, f, "charts")
    ws.set_column(0, 0, 9)
    ws.set_column(1, 3, 12)
    sheet = SHEETS["charts"]
    row = top
    for unit, title_vi, title_en in CHART_GROUPS:
        rows = [
            i
            for i in report.indicators
            if i.unit == unit and (i.value is not None or i.target_value is not None)
        ]
        if not rows:
            continue
        ws.write_string(row, 0, f"{title_vi} / {title_en}", f(bold=True))
        head = row + 1
        ws.write_string(head, 0, _h("code"), f.header)
        ws.write_string(head, 1, f"Giá trị {report.cycle}\nValue", f.header)
        ws.write_string(head, 2, f"Kỳ trước {report.previous_cycle}\nPrevious", f.header)
        ws.write_string(head, 3, _h("target"), f.header)
        ws.set_row(head, 30)
        for n, ind in enumerate(rows, start=1):
            d = p.indicator_decimals(ind)
            ws.write_string(head + n, 0, ind.indicator_code)
            _number(ws, head + n, 1, ind.value, f.number(d, unit))
            _number(ws, head + n, 2, ind.previous_value, f.number(d, unit))
            level_target = ind.target_comparator in p.COMPARATOR_SYMBOL
            _number(ws, head + n, 3, ind.target_value if level_target else None, f.number(d, unit))
        first, last = head + 1, head + len(rows)
        chart = wb.add_chart({"type": "column"})
        assert chart is not None
        cats = [sheet, first, 0, last, 0]
        chart.add_series(
            {
                "name": f"Kỳ trước {report.previous_cycle} / Previous",
                "categories": cats,
                "values": [sheet, first, 2, last, 2],
                "fill": {"color": CHART_PREVIOUS},
                "gap": 60,
            }
        )
        chart.add_series(
            {
                "name": f"{report.cycle} / Value",
                "categories": cats,
                "values": [sheet, first, 1, last, 1],
                "fill": {"color": CHART_VALUE},
            }
        )
        if any(ind.target_comparator in p.COMPARATOR_SYMBOL for ind in rows):
            target = wb.add_chart({"type": "line"})
            assert target is not None
            target.add_series(
                {
                    "name": "Mục tiêu / Target",
                    "categories": cats,
                    "values": [sheet, first, 3, last, 3],
                    "line": {"none": True},
                    "marker": {
                        "type": "dash",
                        "size": 14,
                        "fill": {"color": CHART_TARGET},
                        "border": {"color": CHART_TARGET},
                    },
                }
            )
            chart.combine(target)
        chart.set_title(
            {
                "name": f"{title_vi} — so với mục tiêu / {title_en} — against target",
                "name_font": {"size": 11},
            }
        )
        chart.set_legend({"position": "bottom"})
        chart.set_y_axis(
            {
                "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}},
                "num_format": "#,##0",
            }
        )
        chart.set_size({"width": max(480, 44 * len(rows) + 160), "height": 320})
        ws.insert_chart(row, 5, chart)
        row = max(last + 3, row + 18)
    if row == top:
        ws.write_string(row, 0, "Không có số liệu để vẽ biểu đồ. / No figures to chart.")


# -- trends ---------------------------------------------------------------------------------------

CHART_CARRIED_FILL = "#FFFFFF"
CHART_DIVIDED = "#7030A0"
CARRIED_FONT = "#1F4E78"
DIVIDED_BG = "#E4DFEC"


def _write_trends(wb: Workbook, ws: Worksheet, report: ReportData, f: _Formats) -> None:
    """Each indicator's series on the unit: a table (indicator × cycle, numbers), the report
    cycle's target as a row per indicator (what the charts draw as a line), one native line
    chart per indicator with figures, then every point with its parts, coverage and basis."""
    _setup(ws)
    top = _heading(ws, f, "trends")
    cycles = report.trend_cycles
    if not cycles:
        ws.write_string(
            top,
            0,
            "Chưa có xu hướng: kho dữ liệu có ít hơn hai kỳ của đơn vị. / No trend yet: the "
            "warehouse holds fewer than two cycles of the unit.",
            f(italic=True),
        )
        return
    kind = p.CYCLE_KIND[report.is_annual]
    notes = [
        f"Giá trị của đơn vị qua các kỳ {kind[0]} đến {report.cycle}; mục tiêu: của kỳ "
        f"{report.cycle}. / The unit's value in every {kind[1]} cycle up to {report.cycle}; "
        f"target: the one that applies to {report.cycle}.",
        *(
            f"Đổi hệ thống hành chính từ {c.valid_from:%d/%m/%Y}, giữa {c.after_cycle} và "
            f"{c.before_cycle} ({c.label_vi}). / The hierarchy changed on "
            f"{c.valid_from:%d/%m/%Y}, between {c.after_cycle} and {c.before_cycle}."
            for c in report.hierarchy_changes
        ),
        f"{p.CARRIED_MARK} chữ nghiêng: {p.CARRIED[0]}; nền tím: {p.DIVIDED[0]}. / "
        f"{p.CARRIED_MARK} italics: {p.CARRIED[1]}; purple fill: {p.DIVIDED[1]}.",
    ]
    for n, note in enumerate(notes):
        ws.write_string(top - 1 + n, 3, note, f(italic=True, font_color="#595959"))
    head = top + len(notes)
    first_col = 3
    last_col = first_col + len(cycles) - 1
    target_col = last_col + 1
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 44)
    ws.set_column(2, 2, 9)
    ws.set_column(first_col, last_col, 11)
    ws.set_column(target_col, target_col, 16)
    ws.set_row(head, 30)
    ws.write_string(head, 0, _h("code"), f.header)
    ws.write_string(head, 1, _h("indicator"), f.header)
    ws.write_string(head, 2, _h("unit"), f.header)
    carried_cycles = {
        pt.cycle for t in report.trends for pt in t.points if pt is not None and pt.carried
    }
    for n, cycle in enumerate(cycles):
        label = f"{cycle} {p.CARRIED_MARK}" if cycle in carried_cycles else cycle
        ws.write_string(head, first_col + n, label, f.header)
    ws.write_string(head, target_col, f"Mục tiêu {report.cycle}\nTarget", f.header)
    rows: dict[str, int] = {}
    row = head
    for trend in report.trends:
        row += 1
        rows[trend.indicator_code] = row
        d = p.trend_decimals(trend)
        ws.write_string(row, 0, trend.indicator_code, f(bold=True))
        ws.write_string(row, 1, f"{trend.name_vi} / {trend.name_en}", f.wrap)
        ws.write_string(row, 2, trend.unit)
        for n, point in enumerate(trend.points):
            if point is None:
                continue
            extra: dict[str, Any] = {}
            if point.carried:
                extra.update(italic=True, font_color=CARRIED_FONT)
            if point.includes_divided_commune:
                extra.update(bg_color=DIVIDED_BG)
            _number(ws, row, first_col + n, point.value, f.number(d, trend.unit, **extra))
        target = p.trend_target_text(trend)
        if target:
            ws.write_string(
                row, target_col, p.both(target) if target[0] != target[1] else target[0]
            )
    ws.freeze_panes(head + 1, 3)

    # The target of the report's cycle as a row per indicator, repeated across the cycles:
    # the series each chart draws as a horizontal line.
    row += 2
    ws.write_string(
        row,
        0,
        f"Mục tiêu kỳ {report.cycle}, vẽ thành đường ngang / Target of {report.cycle}, "
        "drawn as a horizontal line",
        f(bold=True),
    )
    target_rows: dict[str, int] = {}
    for trend in report.trends:
        level = p.level_target(trend.target_comparator, trend.target_value)
        if level is None:
            continue
        row += 1
        target_rows[trend.indicator_code] = row
        ws.write_string(row, 0, trend.indicator_code)
        ws.write_string(row, 1, "Mục tiêu / Target")
        d = p.trend_decimals(trend)
        for n in range(len(cycles)):
            ws.write_number(row, first_col + n, level, f.number(d, trend.unit))

    row = _trend_charts(wb, ws, report, rows, target_rows, head, row + 2)
    _trend_points(ws, report, f, row + 1)


def _trend_charts(
    wb: Workbook,
    ws: Worksheet,
    report: ReportData,
    rows: dict[str, int],
    target_rows: dict[str, int],
    head: int,
    top: int,
) -> int:
    """One line chart per indicator with figures, three abreast; returns the row below them."""
    sheet = SHEETS["trends"]
    cycles = report.trend_cycles
    first_col, last_col = 3, 3 + len(cycles) - 1
    cats = [sheet, head, first_col, head, last_col]
    charted = [t for t in report.trends if t.charted]
    per_row, rows_per_chart = 3, 16
    for n, trend in enumerate(charted):
        chart = wb.add_chart({"type": "line"})
        assert chart is not None
        row = rows[trend.indicator_code]
        points: list[dict[str, Any] | None] = [
            {"fill": {"color": CHART_CARRIED_FILL}, "border": {"color": CHART_VALUE}}
            if pt is not None and pt.carried
            else None
            for pt in trend.points
        ]
        series: dict[str, Any] = {
            "name": f"{trend.indicator_code} ({trend.unit})",
            "categories": cats,
            "values": [sheet, row, first_col, row, last_col],
            "line": {"color": CHART_VALUE, "width": 2},
            "marker": {
                "type": "circle",
                "size": 6,
                "fill": {"color": CHART_VALUE},
                "border": {"color": CHART_VALUE},
            },
            "points": points,
        }
        if any(pt is not None and pt.includes_divided_commune for pt in trend.points):
            series["data_labels"] = {
                "value": True,
                "position": "above",
                "font": {"color": CHART_DIVIDED, "bold": True},
                "custom": [
                    {"value": p.DIVIDED_MARK}
                    if pt is not None and pt.includes_divided_commune
                    else {"delete": True}
                    for pt in trend.points
                ],
            }
        chart.add_series(series)
        if trend.indicator_code in target_rows:
            target_row = target_rows[trend.indicator_code]
            chart.add_series(
                {
                    "name": f"Mục tiêu {report.cycle} / Target",
                    "categories": cats,
                    "values": [sheet, target_row, first_col, target_row, last_col],
                    "line": {"color": CHART_TARGET, "width": 1.5, "dash_type": "dash"},
                    "marker": {"type": "none"},
                }
            )
        chart.set_title(
            {"name": f"{trend.indicator_code} — {trend.name_vi}", "name_font": {"size": 9}}
        )
        chart.set_legend({"position": "bottom", "font": {"size": 8}})
        chart.set_y_axis({"major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}}})
        chart.set_size({"width": 420, "height": 300})
        # placed by pixels from column A: the columns beside are as wide as the table needs
        ws.insert_chart(
            top + (n // per_row) * rows_per_chart,
            0,
            chart,
            {"x_offset": 10 + (n % per_row) * 440, "object_position": 3},
        )
    return top + -(-len(charted) // per_row) * rows_per_chart


TREND_POINT_COLUMNS = [
    "code",
    "cycle",
    "value",
    "numerator",
    "denominator",
    "included",
    "in_force",
    "coverage",
    "basis",
    "divided",
]


def _trend_points(ws: Worksheet, report: ReportData, f: _Formats, top: int) -> None:
    """Every point of every series, one row each: the figures behind the charts."""
    ws.write_string(top, 0, "Chi tiết từng kỳ / Every cycle in detail", f(bold=True))
    head = top + 1
    _headers(ws, f, head, TREND_POINT_COLUMNS)
    row = head
    for trend in report.trends:
        d = p.trend_decimals(trend)
        for point in trend.points:
            if point is None:
                continue
            row += 1
            ws.write_string(row, 0, trend.indicator_code)
            ws.write_string(row, 1, point.cycle)
            _number(ws, row, 2, point.value, f.number(d, trend.unit))
            _number(ws, row, 3, point.numerator, f.count)
            _number(ws, row, 4, point.denominator, f.count)
            _number(ws, row, 5, point.communes_included, f.count)
            _number(ws, row, 6, point.communes_in_force, f.count)
            _number(ws, row, 7, point.coverage_pct, f.percent)
            basis = p.CARRIED if point.carried else p.AS_REPORTED
            ws.write_string(row, 8, p.both(basis))
            ws.write_boolean(row, 9, point.includes_divided_commune, f(align="center"))
    if row > head:
        ws.autofilter(head, 0, row, len(TREND_POINT_COLUMNS) - 1)


# -- reporting rates ------------------------------------------------------------------------------

RATE_COLUMNS = [
    "code",
    "name",
    "level",
    "kind",
    "expected",
    "received_n",
    "on_time_n",
    "reporting_rate",
    "timeliness_rate",
]


def _write_rates(wb: Workbook, ws: Worksheet, report: ReportData, f: _Formats) -> None:
    _setup(ws)
    top = _heading(ws, f, "rates")
    _headers(ws, f, top, RATE_COLUMNS)
    for col, width in enumerate([8, 34, 12, 12, 12, 11, 11, 12, 12]):
        ws.set_column(col, col, width)
    row = top
    for r in report.reporting_rates:
        row += 1
        ws.write_string(row, 0, r.unit_code)
        ws.write_string(row, 1, r.name_vi)
        ws.write_string(row, 2, p.both(p.LEVEL[r.unit_level]))
        ws.write_string(row, 3, p.both(p.KIND.get(r.reporter_kind, (r.reporter_kind,) * 2)))
        ws.write_number(row, 4, r.expected_returns, f.count)
        ws.write_number(row, 5, r.received_returns, f.count)
        ws.write_number(row, 6, r.on_time_returns, f.count)
        _number(ws, row, 7, r.reporting_rate, f.percent)
        _number(ws, row, 8, r.timeliness_rate, f.percent)
    if row > top:
        bg, fg = COLOURS["missing"]
        ws.conditional_format(
            top + 1,
            7,
            row,
            8,
            {
                "type": "cell",
                "criteria": "<",
                "value": p.RATE_THRESHOLD,
                "format": wb.add_format({"bg_color": bg, "font_color": fg}),
            },
        )
    ws.write_string(
        row + 2,
        0,
        f"Tỷ lệ dưới {p.RATE_THRESHOLD:.0f}% được tô đỏ (WHO: dưới 90% "
        "là kém). / Rates below 90% are red (WHO: below 90% is poor).",
        f(italic=True),
    )

    # The chart: the unit's parts when they have rates of their own, else its reporter kinds.
    parts = report.part_rates
    rows_first = top + 1
    if parts:
        own = len(report.reporting_rates) - len(parts)
        first, last = rows_first + own, rows_first + len(report.reporting_rates) - 1
        subtitle = (
            "theo " + p.LEVEL_PLURAL[parts[0].unit_level][0],
            "by " + p.LEVEL_PLURAL[parts[0].unit_level][1],
        )
        rates = [r.reporting_rate for r in parts]
    else:
        first, last = rows_first, rows_first + len(report.reporting_rates) - 1
        subtitle = ("theo loại đơn vị báo cáo", "by kind of reporter")
        rates = [r.reporting_rate for r in report.reporting_rates]
    if last < first:
        return
    sheet = SHEETS["rates"]
    chart = wb.add_chart({"type": "bar"})
    assert chart is not None
    cats = [sheet, first, 1 if parts else 3, last, 1 if parts else 3]
    points = [
        {"fill": {"color": CHART_GOOD if (v or 0) >= p.RATE_THRESHOLD else CHART_POOR}}
        for v in rates
    ]
    chart.add_series(
        {
            "name": "Tỷ lệ báo cáo / Reporting rate",
            "categories": cats,
            "values": [sheet, first, 7, last, 7],
            "points": points,
            "data_labels": {"value": True, "num_format": '0.0"%"'},
        }
    )
    chart.add_series(
        {
            "name": "Tỷ lệ đúng hạn / Timeliness",
            "categories": cats,
            "values": [sheet, first, 8, last, 8],
            "fill": {"color": "#9DC3E6"},
        }
    )
    chart.set_title(
        {
            "name": f"Tỷ lệ báo cáo {subtitle[0]} / Reporting rate {subtitle[1]}",
            "name_font": {"size": 11},
        }
    )
    chart.set_x_axis(
        {
            "min": 0,
            "max": 100,
            "num_format": '0"%"',
            "major_gridlines": {"visible": True, "line": {"color": "#E0E0E0"}},
        }
    )
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 640, "height": max(260, 30 * (last - first + 1) + 120)})
    ws.insert_chart(top, 10, chart)


# -- returns of every commune and agency -----------------------------------------------------------


def _write_reporting(
    ws: Worksheet, report: ReportData, f: _Formats, finding_rows: dict[str, int]
) -> None:
    _setup(ws)
    top = _heading(ws, f, "reporting")
    if report.returns_expected is not None:
        vi, en = p.RETURNS_NEEDING_ATTENTION
        ws.write(top - 1, 0, f"{vi} / {en}", f(italic=True))
    keys = [
        "code",
        "reporter",
        "kind",
        "district",
        "status",
        "received",
        "on_time",
        "submitted_on",
        "superseded",
        "rejected_rows",
        "findings",
    ]
    with_district = p.with_district(report)
    if not with_district:
        keys.remove("district")
    _headers(ws, f, top, keys)
    widths = {
        "code": 14,
        "reporter": 40,
        "kind": 16,
        "district": 30,
        "status": 20,
        "received": 10,
        "on_time": 10,
        "submitted_on": 12,
        "superseded": 12,
        "rejected_rows": 12,
        "findings": 11,
    }
    for col, key in enumerate(keys):
        ws.set_column(col, col, widths[key])
    col_of = {key: col for col, key in enumerate(keys)}
    findings = report.findings_by_id()
    centred, date, count = f(align="center"), f.date, f.count
    row = top
    for r in report.reporting:
        row += 1
        ws.write_string(row, col_of["code"], r.reporter_code)
        ws.write_string(row, col_of["reporter"], r.reporter_name_vi)
        ws.write_string(row, col_of["kind"], p.both(p.KIND[r.kind]))
        if with_district and r.district_name_vi:
            ws.write_string(row, col_of["district"], r.district_name_vi)
        ws.write_string(row, col_of["status"], p.both(p.RETURN[r.status]))
        ws.write_boolean(row, col_of["received"], r.received, centred)
        ws.write_boolean(row, col_of["on_time"], r.on_time, centred)
        if r.submitted_on:
            ws.write_datetime(
                row,
                col_of["submitted_on"],
                datetime.combine(r.submitted_on, datetime.min.time()),
                date,
            )
        ws.write_number(row, col_of["superseded"], r.superseded_count, count)
        ws.write_number(row, col_of["rejected_rows"], r.rejected_rows, count)
        _flag_link(
            ws,
            row,
            col_of["findings"],
            r.finding_ids,
            finding_rows,
            f,
            findings if len(report.reporting) < 2000 else None,
        )
    _status_formats(ws, f, top + 1, row, col_of["status"], p.RETURN)
    ws.freeze_panes(top + 1, 2)
    ws.autofilter(top, 0, max(row, top + 1), len(keys) - 1)


# -- findings -------------------------------------------------------------------------------------


def _write_findings(ws: Worksheet, report: ReportData, f: _Formats) -> dict[str, int]:
    """Returns the worksheet row of each finding (for links from the figures)."""
    _setup(ws)
    top = _heading(ws, f, "findings")
    keys = [
        "finding_id",
        "severity",
        "rule",
        "reporter",
        "area",
        "name",
        "figure",
        "observed",
        "expected_value",
        "message",
        "message",
    ]
    _headers(
        ws, f, top, keys, {9: "Nội dung cần kiểm tra\n(tiếng Việt)", 10: "What to check\n(English)"}
    )
    for col, width in enumerate([8, 14, 30, 14, 9, 26, 22, 12, 12, 60, 50]):
        ws.set_column(col, col, width)
    rows: dict[str, int] = {}
    row = top
    if not report.quality_checked or not report.findings:
        message = p.NOT_CHECKED if not report.quality_checked else p.NO_FINDINGS
        ws.write_string(top + 1, 0, p.both(message), f(italic=True))
        return rows
    for finding in report.findings:
        row += 1
        rows[finding.finding_id] = row
        ws.write_string(row, 0, finding.finding_id, f(bold=True))
        ws.write_string(row, 1, p.both(p.SEVERITY[finding.severity]))
        ws.write_string(row, 2, finding.rule_id)
        ws.write_string(row, 3, finding.reporter_code or "")
        ws.write_string(row, 4, finding.unit_code or "")
        ws.write_string(row, 5, finding.unit_name_vi or "")
        ws.write_string(row, 6, finding.subject)
        if finding.suppressed:
            ws.write_string(row, 7, DISPLAY["small_count"], f.suppressed)
            ws.write_string(row, 8, DISPLAY["small_count"], f.suppressed)
        else:
            _number(ws, row, 7, finding.observed, f.number(_plain_decimals(finding.observed)))
            if isinstance(finding.expected, str):
                ws.write_string(row, 8, finding.expected, f(align="right"))
            else:
                _number(ws, row, 8, finding.expected, f.number(_plain_decimals(finding.expected)))
        ws.write_string(row, 9, finding.message_vi, f.wrap)
        ws.write_string(row, 10, finding.message_en, f(text_wrap=True, font_color="#595959"))
    _status_formats(ws, f, top + 1, row, 1, p.SEVERITY)
    ws.freeze_panes(top + 1, 1)
    ws.autofilter(top, 0, row, len(keys) - 1)
    return rows


def _plain_decimals(value: float | None) -> int:
    if value is None or float(value).is_integer():
        return 0
    return 2


# -- breakdown ------------------------------------------------------------------------------------


def _write_breakdown(
    ws: Worksheet, report: ReportData, f: _Formats, finding_rows: dict[str, int]
) -> None:
    _setup(ws)
    top = _heading(ws, f, "breakdown")
    level_vi, level_en = p.LEVEL[report.breakdown_level]
    ws.write_string(
        1,
        3,
        f"theo {level_vi.lower()} / by {level_en.lower()}",
        f(italic=True, font_color="#595959"),
    )
    codes = [i.indicator_code for i in report.indicators]
    units = {i.indicator_code: i.unit for i in report.indicators}
    communes = report.breakdown_level == "commune"
    last_key = "return" if communes else "reporting_rate"
    ws.set_row(top, 30)
    ws.write_string(top, 0, _h("code"), f.header)
    ws.write_string(top, 1, f"{level_vi}\n{level_en}", f.header)
    for n, code in enumerate(codes):
        ws.write_string(
            top,
            2 + n,
            f"{code}\n{units[code]}",
            f(
                bold=True,
                font_color="white",
                bg_color=HEADER_BG,
                text_wrap=True,
                align="center",
                valign="vcenter",
                border=1,
                border_color="#9BC2E6",
            ),
        )
    rate_col = 2 + len(codes)
    ws.write_string(top, rate_col, _h(last_key), f.header)
    ws.write_string(top, rate_col + 1, _h("findings"), f.header)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 30)
    ws.set_column(2, rate_col - 1, 9)
    ws.set_column(rate_col, rate_col, 16 if communes else 12)
    ws.set_column(rate_col + 1, rate_col + 1, 11)
    decimals = {
        code: p.column_decimals(
            units[code], [b.values[code].value for b in report.breakdown if code in b.values]
        )
        for code in codes
    }
    flagged = f(bg_color=FLAG_BG)
    # Formats looked up once per column, not per cell: a national cycle has ~350,000 cells.
    plain = {code: f.number(decimals[code], units[code]) for code in codes}
    suppressed = f.suppressed
    row = top
    for b in report.breakdown:
        row += 1
        ws.write_string(row, 0, b.unit_code)
        ws.write_string(row, 1, b.name_vi)
        for n, code in enumerate(codes):
            cell = b.values.get(code)
            col = 2 + n
            if cell is None:
                continue
            if cell.suppressed:
                ws.write_string(row, col, DISPLAY[cell.suppressed], suppressed)
            elif cell.finding_ids:
                _number(
                    ws,
                    row,
                    col,
                    cell.value,
                    f.number(decimals[code], units[code], bg_color=FLAG_BG),
                )
                ws.write_comment(
                    row, col, "⚠ " + ", ".join(cell.finding_ids[:10]), {"font_name": "Arial"}
                )
            else:
                _number(ws, row, col, cell.value, plain[code])
            if report.signoff.is_pending(b.unit_code, code) and not cell.finding_ids:
                ws.write_comment(row, col, f"{p.PENDING_MARK} {_PENDING}", {"font_name": "Arial"})
        if communes:
            if b.return_status:
                ws.write_string(row, rate_col, p.both(p.RETURN[b.return_status]))
        else:
            _number(ws, row, rate_col, b.reporting_rate, f.percent)
        _flag_link(ws, row, rate_col + 1, b.finding_ids, finding_rows, f)
    if communes:
        _status_formats(ws, f, top + 1, row, rate_col, p.RETURN)
    elif row > top:
        bg, fg = COLOURS["missing"]
        ws.conditional_format(
            top + 1,
            rate_col,
            row,
            rate_col,
            {
                "type": "cell",
                "criteria": "<",
                "value": p.RATE_THRESHOLD,
                "format": f.wb.add_format({"bg_color": bg, "font_color": fg}),
            },
        )
    ws.freeze_panes(top + 1, 2)
    if row > top:
        ws.autofilter(top, 0, row, rate_col + 1)
    notes = row + 2
    ws.write_string(
        notes,
        0,
        "Ô tô màu cam: có phát hiện về chất lượng số liệu (xem ghi chú ô). "
        "/ Orange cells: a data-quality finding touches the figure (see the cell "
        "note).",
        flagged,
    )
    if communes:
        ws.write_string(notes + 1, 0, LEGEND_VI, f(italic=True))
        ws.write_string(notes + 2, 0, LEGEND_EN, f(italic=True, font_color="#595959"))


# -- summary --------------------------------------------------------------------------------------


def _write_summary(ws: Worksheet, report: ReportData, f: _Formats) -> None:
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 48)
    ws.set_column(2, 3, 14)
    ws.write_string(0, 0, p.TITLE[0].upper(), f(bold=True, font_size=14, font_color=HEADER_BG))
    ws.write_string(1, 0, p.TITLE[1], f(italic=True, font_color="#595959"))
    unit_vi, unit_en = p.unit_title(report)
    info: list[tuple[str, str]] = [
        *(("Phê duyệt / Sign-off", p.both(line)) for line in p.signoff_lines(report)),
        *(("Chưa phê duyệt / Not approved", line) for line in p.units_left_text(report)),
        ("Đơn vị / Unit", f"{unit_vi} — {unit_en}"),
        ("Cấp / Level", p.both(p.LEVEL[report.level])),
    ]
    if report.unit.parent_name_vi:
        info.append(
            ("Trực thuộc / Part of", f"{report.unit.parent_name_vi} ({report.unit.parent_code})")
        )
    cycle_vi, cycle_en = p.cycle_text(report)
    info += [
        ("Kỳ báo cáo / Cycle", f"{cycle_vi} / {cycle_en}"),
        ("Kỳ so sánh / Compared with", report.previous_cycle),
        ("Hệ thống hành chính / Hierarchy", p.both(p.hierarchy_label(report.unit.hierarchy))),
        ("Nguồn số liệu / Source", report.generated_from),
    ]
    info += [("Ghi chú / Note", note) for note in report.notes]
    row = 3
    for label, value in info:
        ws.write_string(row, 0, label, f(bold=True))
        ws.write_string(row, 1, value, f.wrap)
        row += 1

    row += 1
    ws.write_string(row, 0, p.both(p.SECTIONS["indicators"]), f(bold=True, font_size=12))
    row += 1
    start = row
    for status, n in report.status_counts().items():
        ws.write_string(row, 0, p.both(p.STATUS[status]))
        ws.write_number(row, 1, n, f(num_format="0", align="left"))
        row += 1
    _status_formats(ws, f, start, row - 1, 0, p.STATUS)

    row += 1
    ws.write_string(row, 0, p.both(p.SECTIONS["reporting"]), f(bold=True, font_size=12))
    row += 1
    start = row
    for status, n in report.return_counts().items():
        ws.write_string(row, 0, p.both(p.RETURN[status]))
        ws.write_number(row, 1, n, f(num_format="0", align="left"))
        row += 1
    _status_formats(ws, f, start, row - 1, 0, p.RETURN)
    own = report.own_rates.get("all")
    if own:
        for key, rate in (
            ("reporting_rate", own.reporting_rate),
            ("timeliness_rate", own.timeliness_rate),
        ):
            ws.write_string(row, 0, p.both(p.COLUMNS[key]))
            _number(ws, row, 1, rate, f(num_format='0.0"%"', align="left"))
            row += 1

    row += 1
    ws.write_string(row, 0, p.both(p.SECTIONS["findings"]), f(bold=True, font_size=12))
    row += 1
    if report.quality_checked:
        for severity, n in report.severity_counts().items():
            ws.write_string(row, 0, p.both(p.SEVERITY[severity]))
            ws.write_number(row, 1, n, f(num_format="0", align="left"))
            row += 1
    else:
        ws.write_string(row, 0, p.both(p.NOT_CHECKED), f(italic=True))
        row += 1

    row += 1
    ws.write_string(row, 0, "Các trang / Sheets", f(bold=True, font_size=12))
    row += 1
    for key, name in SHEETS.items():
        if key == "summary":
            continue
        ws.write_url(row, 0, f"internal:'{name}'!A1", f.link, string=name)
        row += 1
    row += 1
    ws.write_string(row, 0, "Số nhỏ / Small counts", f(bold=True))
    ws.write_string(row, 1, f"{LEGEND_VI}\n{LEGEND_EN}", f.wrap)
    ws.set_row(row, 120)


def indicator_chart_units(report: ReportData) -> list[str]:
    """The units of measure that get an indicator chart (used by tests and the html)."""
    return [
        unit
        for unit, _, _ in CHART_GROUPS
        if any(
            i.unit == unit and (i.value is not None or i.target_value is not None)
            for i in report.indicators
        )
    ]
