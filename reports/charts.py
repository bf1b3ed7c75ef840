"""Inline SVG charts for the html report, drawn here: no JavaScript, no fonts or files to fetch.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says in words what the
bars show, so a screen reader gets the same content; the tables next to it carry every figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from reports import present as p
from reports.model import HierarchyChange, IndicatorRow, IndicatorTrend, ReportingRateRow

WIDTH = 760
LABEL_W = 70
VALUE_W = 190
ROW_H = 26
TOP = 34
BOTTOM = 36

STATUS_FILL = {
    "met": "#2e7d32",
    "not_met": "#c62828",
    "interim": "#1f5f99",
    "no_target": "#1f5f99",
    "unknown": "#9e9e9e",
}
PREVIOUS_FILL = "#c9d3de"
TARGET_STROKE = "#111111"
GOOD_FILL = "#2e7d32"
POOR_FILL = "#d26a12"
TIMELY_FILL = "#8fb8de"


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    exp = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _ticks(maximum: float) -> list[float]:
    return [maximum * i / 4 for i in range(5)]


@dataclass(frozen=True)
class _Text:
    title: str
    desc: str


def _open(chart_id: str, height: int, text: _Text) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(text.title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(text.desc)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]


def _axis(
    parts: list[str],
    x0: float,
    plot_w: float,
    maximum: float,
    y_top: float,
    y_bottom: float,
    suffix: str,
    decimals: int,
) -> None:
    for tick in _ticks(maximum):
        x = x0 + plot_w * tick / maximum
        parts.append(
            f'<line x1="{x:.1f}" y1="{y_top}" x2="{x:.1f}" y2="{y_bottom}" '
            'stroke="#e3e7ec" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{y_bottom + 14}" text-anchor="middle" '
            f'class="tick">{escape(p.vi(tick, decimals))}{escape(suffix)}</text>'
        )


def indicator_chart(
    chart_id: str, rows: list[IndicatorRow], unit: str, title_vi: str, title_en: str
) -> Markup:
    """Horizontal bars: this cycle's value coloured by target status, the previous comparable
    cycle as a thin grey bar beneath, the target as a black tick."""
    rows = [r for r in rows if r.value is not None or r.target_value is not None]
    height = TOP + ROW_H * len(rows) + BOTTOM
    level_targets = {
        r.indicator_code: r.target_value for r in rows if r.target_comparator in p.COMPARATOR_SYMBOL
    }
    highest = max(
        [
            v
            for r in rows
            for v in (r.value, r.previous_value, level_targets.get(r.indicator_code))
            if v
        ]
        or [1]
    )
    maximum = 100.0 if unit == "%" and highest <= 100 else _nice_max(highest * 1.05)
    plot_w = WIDTH - LABEL_W - VALUE_W
    x0 = LABEL_W
    described = []
    for r in rows:
        d = p.indicator_decimals(r)
        target_words = p.target_text(r)[0]
        extras = []
        if r.target_comparator:
            extras.append(f"mục tiêu {target_words}, {p.STATUS[r.target_status][0].lower()}")
        if r.previous_value is not None:
            extras.append(f"kỳ trước {p.vi_value(r.previous_value, unit, d)}")
        line = f"{r.indicator_code}: {p.vi_value(r.value, unit, d)}"
        described.append(f"{line} ({', '.join(extras)})" if extras else line)
    text = _Text(f"{title_vi} / {title_en}", "; ".join(described))
    parts = _open(chart_id, height, text)
    y_bottom = TOP + ROW_H * len(rows)
    axis_decimals = 0 if maximum >= 10 else (1 if maximum >= 1 else 2)
    _axis(
        parts,
        x0,
        plot_w,
        maximum,
        TOP - 6,
        y_bottom,
        unit if unit in ("%", "‰") else "",
        axis_decimals,
    )
    parts.append(
        f'<text x="0" y="16" class="chart-title">{escape(title_vi)} '
        f'<tspan class="en">/ {escape(title_en)}</tspan></text>'
    )
    for n, r in enumerate(rows):
        y = TOP + n * ROW_H
        d = p.indicator_decimals(r)
        parts.append(f'<g class="bar-row" data-indicator="{escape(r.indicator_code)}">')
        parts.append(f'<text x="0" y="{y + 15}" class="label">{escape(r.indicator_code)}</text>')
        if r.value is not None:
            w = max(plot_w * min(r.value, maximum) / maximum, 1.5 if r.value > 0 else 0)
            parts.append(
                f'<rect class="bar value status-{r.target_status}" x="{x0}" '
                f'y="{y + 3}" width="{w:.1f}" height="13" rx="2" '
                f'fill="{STATUS_FILL[r.target_status]}"/>'
            )
        if r.previous_value is not None:
            w = plot_w * min(r.previous_value, maximum) / maximum
            parts.append(
                f'<rect class="bar previous" x="{x0}" y="{y + 18}" width="{w:.1f}" '
                f'height="4" fill="{PREVIOUS_FILL}"/>'
            )
        target = level_targets.get(r.indicator_code)
        if target is not None:
            tx = x0 + plot_w * min(target, maximum) / maximum
            parts.append(
                f'<line class="target" x1="{tx:.1f}" y1="{y}" x2="{tx:.1f}" '
                f'y2="{y + 23}" stroke="{TARGET_STROKE}" stroke-width="2.5"/>'
            )
        label = p.vi_value(r.value, unit, d)
        if target is not None:
            label += f"  (MT {p.target_text(r)[0]})"
        parts.append(
            f'<text x="{x0 + plot_w + 8}" y="{y + 15}" class="value">{escape(label)}</text>'
        )
        parts.append("</g>")
    legend_y = height - 8
    parts.append(
        f'<g class="legend" transform="translate({x0},{legend_y})">'
        f'<rect x="0" y="-9" width="12" height="9" fill="{STATUS_FILL["met"]}"/>'
        '<text x="16" y="0">Đạt / Met</text>'
        f'<rect x="90" y="-9" width="12" height="9" fill="{STATUS_FILL["not_met"]}"/>'
        '<text x="106" y="0">Chưa đạt / Not met</text>'
        f'<rect x="230" y="-9" width="12" height="9" fill="{STATUS_FILL["no_target"]}"/>'
        '<text x="246" y="0">Khác / Other</text>'
        f'<rect x="340" y="-6" width="12" height="4" fill="{PREVIOUS_FILL}"/>'
        '<text x="356" y="0">Kỳ trước / Previous</text>'
        f'<line x1="484" y1="-11" x2="484" y2="1" stroke="{TARGET_STROKE}" stroke-width="2.5"/>'
        '<text x="492" y="0">Mục tiêu (MT) / Target</text></g>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_chart(
    chart_id: str, rows: list[ReportingRateRow], labels: list[str], title_vi: str, title_en: str
) -> Markup:
    """Horizontal bars of reporting rate (green at or above 90%, orange below) with timeliness
    as a thinner bar inside, and the WHO 90% line."""
    longest = max((len(label) for label in labels), default=10)
    label_w = min(300, max(90, 8 * longest + 12))
    plot_w = WIDTH - label_w - 110
    height = TOP + ROW_H * len(rows) + BOTTOM
    described = [
        f"{label}: {p.vi_percent(r.reporting_rate)} báo cáo, {p.vi_percent(r.timeliness_rate)} "
        "đúng hạn"
        for label, r in zip(labels, rows, strict=True)
    ]
    text = _Text(f"{title_vi} / {title_en}", "; ".join(described))
    parts = _open(chart_id, height, text)
    y_bottom = TOP + ROW_H * len(rows)
    _axis(parts, label_w, plot_w, 100.0, TOP - 6, y_bottom, "%", 0)
    parts.append(
        f'<text x="0" y="16" class="chart-title">{escape(title_vi)} '
        f'<tspan class="en">/ {escape(title_en)}</tspan></text>'
    )
    for n, (label, r) in enumerate(zip(labels, rows, strict=True)):
        y = TOP + n * ROW_H
        rate = r.reporting_rate or 0.0
        fill = GOOD_FILL if rate >= p.RATE_THRESHOLD else POOR_FILL
        parts.append(f'<g class="bar-row" data-unit="{escape(r.unit_code)}">')
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" class="label">'
            f"{escape(label)}</text>"
        )
        parts.append(
            f'<rect class="bar rate" x="{label_w}" y="{y + 3}" '
            f'width="{plot_w * min(rate, 100) / 100:.1f}" height="17" rx="2" '
            f'fill="{fill}"/>'
        )
        if r.timeliness_rate is not None:
            parts.append(
                f'<rect class="bar timely" x="{label_w}" y="{y + 9}" '
                f'width="{plot_w * min(r.timeliness_rate, 100) / 100:.1f}" height="5" '
                f'fill="{TIMELY_FILL}"/>'
            )
        parts.append(
            f'<text x="{label_w + plot_w + 8}" y="{y + 15}" class="value">'
            f"{escape(p.vi_percent(r.reporting_rate))}</text>"
        )
        parts.append("</g>")
    tx = label_w + plot_w * p.RATE_THRESHOLD / 100
    parts.append(
        f'<line class="threshold" x1="{tx:.1f}" y1="{TOP - 8}" x2="{tx:.1f}" '
        f'y2="{y_bottom}" stroke="#111" stroke-width="1.5" stroke-dasharray="4 3"/>'
    )
    legend_y = height - 8
    parts.append(
        f'<g class="legend" transform="translate({label_w},{legend_y})">'
        f'<rect x="0" y="-9" width="12" height="9" fill="{GOOD_FILL}"/>'
        '<text x="16" y="0">≥ 90%</text>'
        f'<rect x="70" y="-9" width="12" height="9" fill="{POOR_FILL}"/>'
        '<text x="86" y="0">&lt; 90%</text>'
        f'<rect x="140" y="-7" width="12" height="5" fill="{TIMELY_FILL}"/>'
        '<text x="156" y="0">Đúng hạn / On time</text>'
        '<line x1="300" y1="-11" x2="300" y2="1" stroke="#111" stroke-dasharray="4 3"/>'
        '<text x="308" y="0">Ngưỡng WHO 90% / WHO threshold</text></g>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


# -- trends: one small line chart per indicator --------------------------------------------------

TREND_W = 300
TREND_H = 150
TREND_LEFT = 48
TREND_RIGHT = 12
TREND_TOP = 18
TREND_BOTTOM = 126
TREND_LINE = "#1f5f99"
"""The series' colour (`svg.trend` in report.css draws with the same)."""


def _series_words(trend: IndicatorTrend, decimals: int) -> str:
    """The series in words, grouped by basis: 'quy đổi sang đơn vị hiện nay: 2023-Y 62,2%*,
    2024-Y 63,1%*; số liệu báo cáo: 2025-Y 58,3% (*: gồm phần của xã bị chia)'."""
    groups: list[tuple[str, list[str]]] = []
    divided = False
    for point in trend.points:
        if point is None:
            continue
        words = p.CARRIED[0] if point.carried else p.AS_REPORTED[0]
        text = f"{point.cycle} {p.vi_value(point.value, trend.unit, decimals)}"
        if point.includes_divided_commune:
            text += p.DIVIDED_MARK
            divided = True
        if not groups or groups[-1][0] != words:
            groups.append((words, []))
        groups[-1][1].append(text)
    out = "; ".join(f"{words}: {', '.join(texts)}" for words, texts in groups)
    if divided:
        out += f" ({p.DIVIDED_MARK}: {p.DIVIDED[0]})"
    return out


def trend_scale(values: list[float], unit: str) -> tuple[float, float]:
    """The value axis of a trend chart: from 0, or, when every value sits far above 0 (rates
    near 90%), a round range around them so that a change shows; never above 100 for a share
    whose values stay at or below 100."""
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    if high <= 0:
        return 0.0, 1.0
    if low < 0.5 * high:
        top = 100.0 if unit == "%" and high <= 100 and high > 60 else _nice_max(high * 1.05)
        return 0.0, top
    step = _nice_max(max(high - low, high * 0.04) / 2)
    bottom = math.floor(low / step) * step
    if bottom == low:
        bottom -= step
    top = bottom + 2 * step
    while top < high:
        top += step
    if unit == "%" and high <= 100 and top > 100:
        top = 100.0
    return max(bottom, 0.0), top


def trend_chart(
    chart_id: str,
    trend: IndicatorTrend,
    cycles: list[str],
    changes: list[HierarchyChange],
    report_cycle: str,
) -> Markup:
    """The indicator's series on the unit: a line through the cycles, solid and filled where
    the unit reported itself, dashed with hollow markers where earlier communes' figures were
    carried across the reform; `*` over a value that includes part of a divided commune; a
    dotted vertical mark where the hierarchy changes; the target of the report's cycle as a
    dashed horizontal line. `<title>`/`<desc>` say the same in words. Colours and dashes are
    classes of the page's stylesheet (`svg.trend ...`): a national page holds ~34 of these."""
    decimals = p.trend_decimals(trend)
    target = p.level_target(trend.target_comparator, trend.target_value)
    values = [pt.value for pt in trend.points if pt is not None and pt.value is not None]
    bottom, top = trend_scale([*values, *([target] if target is not None else [])], trend.unit)
    plot_w = TREND_W - TREND_LEFT - TREND_RIGHT
    plot_h = TREND_BOTTOM - TREND_TOP

    def x(n: int) -> float:
        if len(cycles) == 1:
            return TREND_LEFT + plot_w / 2
        return TREND_LEFT + 8 + (plot_w - 16) * n / (len(cycles) - 1)

    def y(value: float) -> float:
        return TREND_BOTTOM - plot_h * (min(max(value, bottom), top) - bottom) / (top - bottom)

    desc = [_series_words(trend, decimals) or "không có số liệu / no figures"]
    target_words = p.trend_target_text(trend)
    if target_words:
        desc.append(f"mục tiêu kỳ {report_cycle}: {target_words[0]}")
    desc += [
        f"đổi hệ thống hành chính giữa {c.after_cycle} và {c.before_cycle} ({c.label_vi})"
        for c in changes
    ]
    title = (
        f"{trend.indicator_code} — {trend.name_vi} / {trend.name_en}: "
        f"xu hướng {cycles[0]}–{cycles[-1]} / trend"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" id="{chart_id}" role="img" '
        f'viewBox="0 0 {TREND_W} {TREND_H}" width="{TREND_W}" height="{TREND_H}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'data-indicator="{escape(trend.indicator_code)}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape("; ".join(desc))}.</desc>',
    ]
    ticks = (bottom, (bottom + top) / 2, top)
    axis_decimals = max(p.own_decimals(tick) for tick in ticks)
    suffix = trend.unit if trend.unit in ("%", "‰") else ""
    right = TREND_W - TREND_RIGHT
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<path class="grid" d="M{TREND_LEFT} {ty:.1f}H{right}"/>'
            f'<text x="{TREND_LEFT - 4}" y="{ty + 4:.1f}" class="tick end">'
            f"{escape(p.vi(tick, axis_decimals))}{escape(suffix)}</text>"
        )
    step = max(1, math.ceil(len(cycles) / 7))
    for n, cycle in enumerate(cycles):
        if n % step == 0 or n == len(cycles) - 1:
            parts.append(
                f'<text x="{x(n):.1f}" y="{TREND_BOTTOM + 15}" class="tick mid">'
                f"{escape(p.cycle_label(cycle))}</text>"
            )
    position = {c: n for n, c in enumerate(cycles)}
    for change in changes:
        mx = (x(position[change.after_cycle]) + x(position[change.before_cycle])) / 2
        # the new version's first day, on the side with room for it
        left = mx > TREND_W - 70
        anchor = ' class="end"' if left else ""
        parts.append(
            f'<g class="reform" data-after="{change.after_cycle}" '
            f'data-before="{change.before_cycle}">'
            f'<path d="M{mx:.1f} {TREND_TOP - 6}V{TREND_BOTTOM}"/>'
            f'<text x="{mx - 3 if left else mx + 3:.1f}" y="{TREND_TOP - 7}"{anchor}>'
            f"{change.valid_from.strftime('%d/%m/%Y')}</text></g>"
        )
    if target is not None:
        parts.append(f'<path class="target" d="M{TREND_LEFT} {y(target):.1f}H{right}"/>')
    # Segments: dashed where either end is a carried point, none across a missing cycle;
    # consecutive segments of one kind are one run of the path.
    paths: dict[str, list[str]] = {"reported": [], "carried": []}
    last: tuple[str, int] | None = None
    for n in range(len(cycles) - 1):
        a, b = trend.points[n], trend.points[n + 1]
        if a is None or b is None or a.value is None or b.value is None:
            continue
        kind = "carried" if a.carried or b.carried else "reported"
        if last != (kind, n):
            paths[kind].append(f"M{x(n):.1f} {y(a.value):.1f}")
        paths[kind].append(f"L{x(n + 1):.1f} {y(b.value):.1f}")
        last = (kind, n + 1)
    for kind, d in paths.items():
        if d:
            parts.append(f'<path class="line {kind}" d="{"".join(d)}"/>')
    for n, point in enumerate(trend.points):
        if point is None or point.value is None:
            continue
        px, py = x(n), y(point.value)
        basis = "carried" if point.carried else "reported"
        parts.append(
            f'<circle class="pt {basis}" data-cycle="{point.cycle}" cx="{px:.1f}" '
            f'cy="{py:.1f}" r="3.5"/>'
        )
        if point.includes_divided_commune:
            parts.append(f'<text class="divided" x="{px:.1f}" y="{py - 6:.1f}">*</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
