"""The consolidated report as one self-contained html page (Jinja2, `reports/templates/`).

Inline CSS and inline SVG charts (`reports.charts`), no scripts and nothing fetched, so the page
opens from a file share or an email attachment offline. Vietnamese first, English beside it
(`lang="en"`); figures the Vietnamese way (9,5‰; 1.234; 95,2%). The same content as the xlsx.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from reports import charts
from reports import present as p
from reports.model import ReportData
from reports.suppress import DISPLAY, LEGEND_EN, LEGEND_VI
from reports.xlsx import CHART_GROUPS

TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.cache
def environment() -> Environment:
    """One Jinja2 environment per process (templates compile once)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["both"] = p.both
    return env


def render_html(report: ReportData) -> str:
    return environment().get_template("report.html.j2").render(**_context(report))


def write_html(report: ReportData, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path


@dataclass(frozen=True)
class IndexEntry:
    """One report in the cycle's index page."""

    level: str
    code: str
    name_vi: str
    province_code: str | None
    html: str
    xlsx: str
    reporting_rate: float | None = None
    not_met: int = 0
    errors: int | None = 0
    """None when the quality checks have not run."""
    signoff: str = ""
    """Draft, or the revision approved (and pending), in a few words (issue 15)."""


def render_cycles_index(reports_dir: Path) -> str:
    """The top page of the reports folder: every cycle with reports, latest first."""
    from core.cycles import Cycle

    cycles = []
    for folder in sorted(reports_dir.iterdir(), reverse=True):
        try:
            cycle = Cycle.parse(folder.name)
        except ValueError:
            continue
        if (folder / "index.html").exists():
            cycles.append(
                {
                    "id": cycle.id,
                    "kind": cycle.kind,
                    "data_docs": (folder / "data_docs" / "index.html").exists(),
                    # every cycle with figures has a country report
                    "empty": not (folder / "country.html").exists(),
                }
            )
    cycles.sort(key=lambda c: Cycle.parse(str(c["id"])), reverse=True)
    return environment().get_template("cycles.html.j2").render(cycles=cycles)


def render_index(
    cycle: str, entries: list[IndexEntry], generated_from: str, *, empty: bool = False
) -> str:
    """The cycle's index; `empty`: no return has been received for the cycle yet."""
    provinces = [e for e in entries if e.level == "province"]
    districts: dict[str, list[IndexEntry]] = {}
    for e in entries:
        if e.level == "district":
            districts.setdefault(e.province_code or "", []).append(e)
    country = next((e for e in entries if e.level == "country"), None)
    return (
        environment()
        .get_template("index.html.j2")
        .render(
            cycle=cycle,
            country=country,
            provinces=provinces,
            districts=districts,
            generated_from=generated_from,
            empty=empty,
            vi_percent=p.vi_percent,
            counts={
                lv: sum(1 for e in entries if e.level == lv)
                for lv in ("province", "district", "country")
            },
        )
    )


# -- the report's context: every figure already formatted ----------------------------------------


def _context(report: ReportData) -> dict[str, Any]:
    unit_vi, unit_en = p.unit_title(report)
    cycle_vi, cycle_en = p.cycle_text(report)
    findings = report.findings_by_id()
    return {
        "r": report,
        "p": p,
        "title_vi": f"{p.TITLE[0]} — {unit_vi} — {report.cycle}",
        "title_en": f"{p.TITLE[1]} — {unit_en} — {report.cycle}",
        "unit_vi": unit_vi,
        "unit_en": unit_en,
        "cycle_vi": cycle_vi,
        "cycle_en": cycle_en,
        "level": p.LEVEL[report.level],
        "hierarchy": p.hierarchy_label(report.unit.hierarchy),
        "summary": _summary(report),
        "indicators": _indicators(report),
        "target_origins": p.target_origins(report.indicators),
        "national_targets": any(i.target_source == "national" for i in report.indicators),
        "target_wordings": [
            {
                "code": i.indicator_code,
                "origin": p.target_origin(i),
                "text": i.target_text,
                "note_vi": i.target_note_vi,
                "note_en": i.target_note_en,
            }
            for i in report.indicators
            if p.needs_wording(i)
        ],
        "indicator_charts": _indicator_charts(report),
        "trends": _trends(report),
        "rate_chart": _rate_chart(report),
        "rates": _rates(report),
        "reporting": _reporting(report),
        "reporting_note": (
            p.RETURNS_NEEDING_ATTENTION if report.returns_expected is not None else None
        ),
        "with_district": p.with_district(report),
        "findings": [_finding(f) for f in report.findings],
        "findings_by_id": findings,
        "breakdown": _breakdown(report),
        "legend_vi": LEGEND_VI,
        "legend_en": LEGEND_EN,
        "signoff_lines": p.signoff_lines(report),
        "signoff_class": _signoff_class(report),
        "units_left": p.units_left_text(report),
        "pending_mark": p.PENDING_MARK,
        "pending_title": "Đã thay đổi sau lần phê duyệt / changed since the revision approved",
    }


def _signoff_class(report: ReportData) -> str:
    s = report.signoff
    if s.pending_revision:
        return "pending"
    if s.approved or (report.level == "country" and s.units_signing and not s.units_left):
        return "approved"
    return "draft"


def _summary(report: ReportData) -> dict[str, Any]:
    own = report.own_rates.get("all")
    return {
        "statuses": [(key, p.STATUS[key], n) for key, n in report.status_counts().items()],
        "returns": [(key, p.RETURN[key], n) for key, n in report.return_counts().items()],
        "reporting_rate": p.vi_percent(own.reporting_rate) if own else "–",
        "timeliness_rate": p.vi_percent(own.timeliness_rate) if own else "–",
        "rate_poor": bool(own and (own.reporting_rate or 0) < p.RATE_THRESHOLD),
        "severities": [(key, p.SEVERITY[key], n) for key, n in report.severity_counts().items()],
        "expected": sum(report.return_counts().values()),
    }


def _indicators(report: ReportData) -> list[dict[str, Any]]:
    rows = []
    for ind in report.indicators:
        d = p.indicator_decimals(ind)
        target_vi, target_en = p.target_text(ind)
        rows.append(
            {
                "code": ind.indicator_code,
                "name_vi": ind.name_vi,
                "name_en": ind.name_en,
                "unit": ind.unit,
                "numerator": p.vi_count(ind.numerator),
                "denominator": p.vi_count(ind.denominator),
                "value": p.vi_value(ind.value, ind.unit, d),
                "target_vi": target_vi,
                "target_en": target_en if target_en != target_vi else "",
                "status": ind.target_status,
                "status_label": p.STATUS[ind.target_status],
                "previous": p.vi_value(ind.previous_value, ind.unit, d),
                "change": p.vi_change(ind.change, d),
                "change_class": p.change_quality(ind),
                "coverage": (
                    f"{p.vi_count(ind.communes_included)}/{p.vi_count(ind.communes_in_force)}"
                    if ind.communes_in_force
                    else "–"
                ),
                "coverage_pct": p.vi_percent(ind.coverage_pct, 0),
                "origin": p.target_origin(ind),
                "wording": ind.target_text or "",
                "finding_ids": ind.finding_ids,
                "pending": report.signoff.is_pending(report.unit.code, ind.indicator_code),
            }
        )
    return rows


def _indicator_charts(report: ReportData) -> list[Markup]:
    out = []
    for n, (unit, title_vi, title_en) in enumerate(CHART_GROUPS):
        rows = [
            i
            for i in report.indicators
            if i.unit == unit and (i.value is not None or i.target_value is not None)
        ]
        if rows:
            out.append(
                charts.indicator_chart(
                    f"chart-indicators-{n}",
                    rows,
                    unit,
                    f"{title_vi} so với mục tiêu",
                    f"{title_en} against target",
                )
            )
    return out


def _trends(report: ReportData) -> dict[str, Any] | None:
    """A small line chart per indicator with figures, and the series as a table."""
    cycles = report.trend_cycles
    if not cycles:
        return None
    starts = {c.before_cycle for c in report.hierarchy_changes}
    figures, rows = [], []
    for trend in report.trends:
        decimals = p.trend_decimals(trend)
        if trend.charted:
            chart = charts.trend_chart(
                f"trend-{trend.indicator_code}",
                trend,
                cycles,
                report.hierarchy_changes,
                report.cycle,
            )
            figures.append(
                {
                    "code": trend.indicator_code,
                    "name_vi": trend.name_vi,
                    "name_en": trend.name_en,
                    "chart": chart,
                }
            )
        cells = []
        for cycle, point in zip(cycles, trend.points, strict=True):
            cls = ["num"] + (["reform-start"] if cycle in starts else [])
            if point is None or point.value is None:
                cells.append({"text": "–", "marks": "", "cls": " ".join([*cls, "na"]), "title": ""})
                continue
            marks = ""
            if point.carried:
                marks += p.CARRIED_MARK
                cls.append("carried")
            if point.includes_divided_commune:
                marks += p.DIVIDED_MARK
            cells.append(
                {
                    "text": p.vi_value(point.value, trend.unit, decimals),
                    "marks": marks,
                    "cls": " ".join(cls),
                    # coverage, on hover (the marks are explained in the caption)
                    "title": (
                        f"{p.vi_count(point.communes_included)}/"
                        f"{p.vi_count(point.communes_in_force)} xã"
                        if point.communes_in_force
                        else ""
                    ),
                }
            )
        target = p.trend_target_text(trend)
        rows.append(
            {
                "code": trend.indicator_code,
                "name_vi": trend.name_vi,
                "name_en": trend.name_en,
                "cells": cells,
                "target": target[0] if target else "–",
            }
        )
    points = [pt for t in report.trends for pt in t.points if pt is not None]
    carried_cycles = {pt.cycle for pt in points if pt.carried}
    return {
        "cycles": [
            {"id": c, "carried": c in carried_cycles, "reform_start": c in starts} for c in cycles
        ],
        "figures": figures,
        "rows": rows,
        "kind": p.CYCLE_KIND[report.is_annual],
        "changes": [
            {
                "after": c.after_cycle,
                "before": c.before_cycle,
                "from": c.valid_from.strftime("%d/%m/%Y"),
                "label_vi": c.label_vi,
                "label_en": c.label_en,
            }
            for c in report.hierarchy_changes
        ],
        "any_carried": bool(carried_cycles),
        "any_divided": any(pt.includes_divided_commune for pt in points),
        "any_target": any(
            p.level_target(t.target_comparator, t.target_value) is not None for t in report.trends
        ),
    }


def _rate_chart(report: ReportData) -> Markup | None:
    parts = report.part_rates
    if parts:
        rows = parts
        labels = [r.name_vi for r in rows]
        plural = p.LEVEL_PLURAL[parts[0].unit_level]
        title = (f"Tỷ lệ báo cáo theo {plural[0]}", f"Reporting rate by {plural[1]}")
    else:
        rows = [r for r in report.reporting_rates if r.unit_code == report.unit.code]
        labels = [p.both(p.KIND.get(r.reporter_kind, (r.reporter_kind,) * 2)) for r in rows]
        title = ("Tỷ lệ báo cáo theo loại đơn vị báo cáo", "Reporting rate by kind of reporter")
    if not rows:
        return None
    return charts.rate_chart("chart-rates", rows, labels, *title)


def _rates(report: ReportData) -> list[dict[str, Any]]:
    return [
        {
            "code": r.unit_code,
            "name": r.name_vi,
            "level": p.LEVEL[r.unit_level],
            "kind": p.KIND.get(r.reporter_kind, (r.reporter_kind, r.reporter_kind)),
            "expected": p.vi_count(r.expected_returns),
            "received": p.vi_count(r.received_returns),
            "on_time": p.vi_count(r.on_time_returns),
            "reporting_rate": p.vi_percent(r.reporting_rate),
            "timeliness_rate": p.vi_percent(r.timeliness_rate),
            "poor": r.reporting_rate is not None and r.reporting_rate < p.RATE_THRESHOLD,
            "late_poor": r.timeliness_rate is not None and r.timeliness_rate < p.RATE_THRESHOLD,
        }
        for r in report.reporting_rates
    ]


def _reporting(report: ReportData) -> list[dict[str, Any]]:
    return [
        {
            "code": r.reporter_code,
            "name": r.reporter_name_vi,
            "kind": p.KIND[r.kind],
            "district": r.district_name_vi or "",
            "status": r.status,
            "status_label": p.RETURN[r.status],
            "submitted_on": r.submitted_on.strftime("%d/%m/%Y") if r.submitted_on else "–",
            "superseded": p.vi_count(r.superseded_count),
            "rejected_rows": p.vi_count(r.rejected_rows),
            "finding_ids": r.finding_ids,
        }
        for r in report.reporting
    ]


def _finding(f: Any) -> dict[str, Any]:
    def number(value: float | str | None) -> str:
        if f.suppressed:
            return DISPLAY["small_count"]
        if value is None:
            return "–"
        if isinstance(value, str):
            return value
        return p.vi(value, 0 if float(value).is_integer() else 2)

    return {
        "id": f.finding_id,
        "severity": f.severity,
        "severity_label": p.SEVERITY[f.severity],
        "rule": f.rule_id,
        "reporter": f.reporter_code or "",
        "unit": f.unit_code or "",
        "unit_name": f.unit_name_vi or "",
        "subject": f.subject,
        "observed": number(f.observed),
        "expected": number(f.expected),
        "message_vi": f.message_vi,
        "message_en": f.message_en,
        "suppressed": f.suppressed,
    }


def _breakdown(report: ReportData) -> dict[str, Any]:
    codes = [i.indicator_code for i in report.indicators]
    units = {i.indicator_code: i.unit for i in report.indicators}
    names = {i.indicator_code: (i.name_vi, i.name_en) for i in report.indicators}
    decimals = {
        code: p.column_decimals(
            units[code], [b.values[code].value for b in report.breakdown if code in b.values]
        )
        for code in codes
    }
    rows = []
    for b in report.breakdown:
        cells = []
        for code in codes:
            cell = b.values.get(code)
            if cell is None:
                cells.append('<td class="num na">–</td>')
                continue
            cls = []
            title = ""
            if cell.suppressed:
                cls.append("suppressed")
                title = "Số nhỏ, không công bố / Small count withheld"
            elif cell.value is None:
                cls.append("na")
            pending = report.signoff.is_pending(b.unit_code, code)
            if pending:
                cls.append("pending")
                title = "Đã thay đổi sau lần phê duyệt / changed since the revision approved"
            if cell.finding_ids:
                cls.append("flagged")
                title = (
                    "⚠ "
                    + ", ".join(cell.finding_ids[:10])
                    + (f" … +{len(cell.finding_ids) - 10}" if len(cell.finding_ids) > 10 else "")
                )
            text: str = escape(
                p.cell_text(cell, units[code], decimals[code])
                + (f" {p.PENDING_MARK}" if pending else "")
            )
            if cell.finding_ids:
                text = f'<a href="#{escape(cell.finding_ids[0])}" class="cell-link">{text}</a>'
            title_attr = f' title="{escape(title)}"' if title else ""
            cells.append(f'<td class="num {" ".join(cls)}"{title_attr}>{text}</td>')
        rows.append(
            {
                "code": b.unit_code,
                "name": b.name_vi,
                # A national cycle's breakdowns hold ~350,000 cells: each is written here, not
                # by the template, which would look up and escape its parts one by one.
                "cells": Markup("".join(cells)),
                "return_status": b.return_status,
                "return_label": p.RETURN[b.return_status] if b.return_status else None,
                "reporting_rate": p.vi_percent(b.reporting_rate),
                "poor": b.reporting_rate is not None and b.reporting_rate < p.RATE_THRESHOLD,
                "finding_ids": b.finding_ids,
            }
        )
    return {
        "level": p.LEVEL[report.breakdown_level],
        "communes": report.breakdown_level == "commune",
        "columns": [
            {"code": c, "unit": units[c], "name_vi": names[c][0], "name_en": names[c][1]}
            for c in codes
        ],
        "rows": rows,
        "any_suppressed": any(c.suppressed for b in report.breakdown for c in b.values.values()),
    }
