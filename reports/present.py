"""Labels and number display shared by the xlsx and html renderers (Vietnamese first).

The html shows figures the Vietnamese way (9,5‰; 1.234; 95,2%); the xlsx keeps numbers as
numbers and only chooses how many decimals a cell format shows, with the same rule as here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.hierarchies import hierarchy_version
from core.text import format_vi_number
from reports.model import BreakdownCell, IndicatorRow, ReportData

Pair = tuple[str, str]

STATUS: dict[str, Pair] = {
    "met": ("Đạt", "Met"),
    "not_met": ("Chưa đạt", "Not met"),
    "interim": ("Giữa kỳ", "Interim"),
    "no_target": ("Không có mục tiêu", "No target"),
    "unknown": ("Chưa rõ", "Unknown"),
}
RETURN: dict[str, Pair] = {
    "on_time": ("Đúng hạn", "On time"),
    "late": ("Muộn", "Late"),
    "missing": ("Chưa nộp", "Missing"),
}
SEVERITY: dict[str, Pair] = {"error": ("Lỗi", "Error"), "warning": ("Cảnh báo", "Warning")}
KIND: dict[str, Pair] = {
    "commune": ("Xã", "Commune"),
    "agency": ("Cơ quan", "Agency"),
    "all": ("Tất cả", "All"),
}
LEVEL: dict[str, Pair] = {
    "commune": ("Xã", "Commune"),
    "district": ("Huyện", "District"),
    "province": ("Tỉnh", "Province"),
    "country": ("Toàn quốc", "Country"),
}
LEVEL_PLURAL: dict[str, Pair] = {
    "commune": ("xã", "commune"),
    "district": ("huyện", "district"),
    "province": ("tỉnh", "province"),
}


def hierarchy_label(hierarchy: str) -> Pair:
    """The hierarchy version as reports name it (seed hierarchies)."""
    version = hierarchy_version(hierarchy)
    return (version.label_vi, version.label_en)


def with_district(report: ReportData) -> bool:
    """Whether a report's commune rows show their district: in a version with districts,
    above the district level."""
    return hierarchy_version(report.unit.hierarchy).has_districts and report.level != "district"


CYCLE_KIND: dict[bool, Pair] = {True: ("năm", "annual"), False: ("6 tháng", "half-year")}

TITLE: Pair = (
    "Báo cáo tổng hợp kết quả thực hiện Chương trình hành động vì trẻ em",
    "Consolidated report on the programme of action for children",
)
SECTIONS: dict[str, Pair] = {
    "summary": ("Tổng quan", "Summary"),
    "indicators": ("Chỉ tiêu so với mục tiêu kế hoạch", "Indicators against plan targets"),
    "charts": ("Biểu đồ", "Charts"),
    "rates": ("Tỷ lệ báo cáo", "Reporting rates"),
    "reporting": ("Tình hình gửi báo cáo của xã và cơ quan", "Returns from communes and agencies"),
    "findings": ("Phát hiện về chất lượng số liệu", "Data-quality findings"),
    "breakdown": ("Phân tổ", "Breakdown"),
}
RETURNS_NEEDING_ATTENTION: Pair = (
    "Chỉ liệt kê các báo cáo cần chú ý: chưa nộp, nộp muộn, có dòng bị loại hoặc có phát hiện "
    "về chất lượng. Danh sách đầy đủ có trong báo cáo của từng tỉnh.",
    "Only the returns needing attention: missing, late, with rows refused or with quality "
    "findings. Every return is listed in its province's report.",
)
"""The country's returns list (a national cycle expects ~12,000 returns)."""
COLUMNS: dict[str, Pair] = {
    "code": ("Mã", "Code"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "name": ("Tên", "Name"),
    "unit": ("Đơn vị tính", "Unit"),
    "numerator": ("Tử số", "Numerator"),
    "denominator": ("Mẫu số", "Denominator"),
    "value": ("Giá trị", "Value"),
    "comparator": ("So sánh", "Comparator"),
    "target": ("Mục tiêu", "Target"),
    "status": ("Tình trạng", "Status"),
    "previous": ("Kỳ trước", "Previous"),
    "change": ("Thay đổi", "Change"),
    "included": ("Số xã có số liệu", "Communes reporting"),
    "in_force": ("Số xã", "Communes"),
    "coverage": ("Độ bao phủ", "Coverage"),
    "plan": ("Kế hoạch", "Plan"),
    "findings": ("⚠ Phát hiện", "⚠ Findings"),
    "reporter": ("Đơn vị báo cáo", "Reporter"),
    "kind": ("Loại", "Kind"),
    "district": ("Huyện", "District"),
    "received": ("Đã nhận", "Received"),
    "on_time": ("Đúng hạn", "On time"),
    "submitted_on": ("Ngày gửi", "Submitted on"),
    "superseded": ("Số lần gửi lại", "Resubmissions"),
    "rejected_rows": ("Dòng bị loại", "Rows rejected"),
    "level": ("Cấp", "Level"),
    "expected": ("Số báo cáo phải nộp", "Returns expected"),
    "received_n": ("Số đã nhận", "Received"),
    "on_time_n": ("Số đúng hạn", "On time"),
    "reporting_rate": ("Tỷ lệ báo cáo", "Reporting rate"),
    "timeliness_rate": ("Tỷ lệ đúng hạn", "Timeliness"),
    "finding_id": ("Số", "ID"),
    "severity": ("Mức độ", "Severity"),
    "rule": ("Quy tắc", "Rule"),
    "area": ("Đơn vị", "Unit"),
    "figure": ("Số liệu", "Figure"),
    "observed": ("Giá trị ghi nhận", "Observed"),
    "expected_value": ("Giá trị kỳ vọng", "Expected"),
    "message": ("Nội dung cần kiểm tra", "What to check"),
    "return": ("Báo cáo của xã", "Commune return"),
}
RATE_THRESHOLD = 90.0
"""The WHO Data Quality Review calls a reporting rate below 90% poor."""

NOT_CHECKED: Pair = (
    "Chưa chạy kiểm tra chất lượng số liệu cho kỳ này.",
    "Quality checks have not been run for this cycle.",
)
NO_FINDINGS: Pair = ("Không có phát hiện nào.", "No findings.")


def both(pair: Pair, sep: str = " / ") -> str:
    return f"{pair[0]}{sep}{pair[1]}"


def level_word(level: str, plural: bool = False) -> Pair:
    return LEVEL_PLURAL[level] if plural else LEVEL[level]


# -- decimals, shared by both formats -----------------------------------------------------------


def _has_fraction(value: float | None, places: int) -> bool:
    return value is not None and round(value, places) != round(value, places + 3)


def own_decimals(value: float, most: int = 2) -> int:
    """The decimals a number needs to read exactly (up to `most`): 65 -> 0, 9.5 -> 1."""
    for places in range(most + 1):
        if round(value, places) == round(value, most + 3):
            return places
    return most


def indicator_decimals(row: IndicatorRow) -> int:
    """Counts 0; rates 1, or 2 when the value or target is below 1 or the target needs it."""
    if row.unit == "cuộc":
        return 0
    small = any(v is not None and 0 < abs(v) < 1 for v in (row.value, row.target_value))
    places = 2 if small or _has_fraction(row.target_value, 1) else 1
    # 89,99% against a target of 90% must not read "90,0%, not met": show what separates them.
    value, target = row.value, row.target_value
    while (
        value is not None
        and target is not None
        and value != target
        and places < 3
        and round(value, places) == round(target, places)
    ):
        places += 1
    return places


def column_decimals(unit: str, values: Iterable[float | None]) -> int:
    if unit == "cuộc":
        return 0
    nonzero = [abs(v) for v in values if v]
    return 2 if nonzero and min(nonzero) < 1 else 1


# -- Vietnamese display (html) ------------------------------------------------------------------

MINUS = "−"


def vi(value: float | None, decimals: int = 0) -> str:
    """1234 -> '1.234'; 9.5 -> '9,5'; None -> '–'."""
    if value is None:
        return "–"
    return format_vi_number(value, decimals).replace("-", MINUS)


def vi_count(value: float | None) -> str:
    if value is None:
        return "–"
    return vi(value, 0 if float(value).is_integer() else 1)


def vi_value(value: float | None, unit: str, decimals: int) -> str:
    """95.2 '%' -> '95,2%'; 9.5 '‰' -> '9,5‰'; 650 '/100.000' -> '650,0'; counts '12'."""
    if value is None:
        return "–"
    text = vi(value, decimals)
    return f"{text}{unit}" if unit in ("%", "‰") else text


def vi_percent(value: float | None, decimals: int = 1) -> str:
    return "–" if value is None else f"{vi(value, decimals)}%"


def vi_change(value: float | None, decimals: int) -> str:
    if value is None:
        return "–"
    if round(value, decimals) == 0:
        return vi(0.0, decimals)
    return ("+" if value > 0 else "") + vi(value, decimals)


def change_quality(row: IndicatorRow) -> str:
    """`better`, `worse` or `same` for the change since the previous cycle."""
    change = row.change
    if change is None or round(change, indicator_decimals(row)) == 0:
        return "same"
    improved = change > 0 if row.better == "higher" else change < 0
    return "better" if improved else "worse"


COMPARATOR_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}


def target_text(row: IndicatorRow) -> Pair:
    """The plan's target as words: ('≥ 95,0%', '≥ 95.0%'), ('giảm ≥ 2%/năm', 'fall ≥ 2%/yr')."""
    comparator, target = row.target_comparator, row.target_value
    if not comparator:
        return ("–", "–")
    # A target reads as the plan wrote it: 65%, 9,5‰, 0,11%.
    if comparator in COMPARATOR_SYMBOL and target is not None:
        text = f"{COMPARATOR_SYMBOL[comparator]} {vi_value(target, row.unit, own_decimals(target))}"
        return (text, text)
    if comparator == "decline_pct>=" and target is not None:
        pct = vi(target, 0 if target.is_integer() else 1)
        return (f"giảm ≥ {pct}%/năm", f"fall ≥ {pct}%/yr")
    if comparator == "decline":
        return ("giảm dần", "decline")
    if comparator == "eliminate":
        return ("loại trừ", "eliminate")
    return (comparator, comparator)


def cell_text(cell: BreakdownCell, unit: str, decimals: int) -> str:
    from reports.suppress import DISPLAY

    if cell.suppressed:
        return DISPLAY[cell.suppressed]
    return vi_value(cell.value, unit, decimals)


_UNSAFE = re.compile(r"[^a-z0-9]+")


def slug(name_ascii: str) -> str:
    """'Huyen Nhu Xuan' -> 'huyen-nhu-xuan' (file names)."""
    return _UNSAFE.sub("-", name_ascii.lower()).strip("-") or "unit"


def report_stem(report: ReportData) -> str:
    """`district_402_huyen-nhu-xuan`, `province_38_tinh-thanh-hoa`, `country`."""
    return unit_stem(report.unit.level, report.unit.code, report.unit.name_ascii)


def unit_stem(level: str, code: str, name_ascii: str) -> str:
    """The report's file name without its suffix, known before its data is built."""
    if level == "country":
        return "country"
    return f"{level}_{code}_{slug(name_ascii)}"


def unit_title(report: ReportData) -> Pair:
    unit = report.unit
    if unit.level == "country":
        return (unit.name_vi, "Country")
    return (f"{unit.name_vi} ({unit.code})", f"{LEVEL[unit.level][1]} {unit.code}")


def cycle_text(report: ReportData) -> Pair:
    kind = CYCLE_KIND[report.is_annual]
    return (f"{report.cycle} ({kind[0]})", f"{report.cycle} ({kind[1]})")


PENDING_MARK = "✱"
"""Marks a cell whose working figure changed since the revision signed."""


def signoff_lines(report: ReportData) -> list[Pair]:
    """What the report is, first thing on it: a draft, or the revision approved (by whom, when),
    and a revision pending; the country's report says which units are left."""
    s = report.signoff
    lines: list[Pair] = []
    if report.level == "country":
        if not s.units_signing:  # a warehouse built before sign-off
            return [("Dự thảo", "Draft")]
        if not s.units_left:
            lines.append(
                (
                    "Tổng hợp từ số liệu đã được mọi đơn vị phê duyệt",
                    "Consolidated from figures every unit has approved",
                )
            )
        else:
            lines.append(
                (
                    f"Dự thảo — còn {len(s.units_left)}/{s.units_signing} đơn vị chưa phê duyệt",
                    f"Draft — {len(s.units_left)} of {s.units_signing} units not approved yet",
                )
            )
        return lines
    if not s.approved:
        return [("Dự thảo — chưa được phê duyệt", "Draft — not approved yet")]
    when = s.approved_at.strftime("%d/%m/%Y") if s.approved_at else "?"
    lines.append(
        (
            f"Đã phê duyệt — lần {s.revision}, bởi {s.approved_by}, ngày {when}"
            + (" (kỳ đã khóa)" if s.locked else ""),
            f"Approved — revision {s.revision}, by {s.approved_by}, on "
            f"{s.approved_at.strftime('%Y-%m-%d') if s.approved_at else '?'}"
            + (" (cycle locked)" if s.locked else ""),
        )
    )
    if s.comment:
        lines.append((f"Ý kiến: {s.comment}", f"Comment: {s.comment}"))
    if s.pending_revision:
        lines.append(
            (
                f"Chờ phê duyệt lại: {s.figures_pending} số liệu và {s.returns_pending} báo cáo đã "
                f"thay đổi sau lần {s.revision}; báo cáo vẫn hiện số liệu đã phê duyệt, các ô "
                f"{PENDING_MARK} đã thay đổi",
                f"Pending revision: {s.figures_pending} figures and {s.returns_pending} returns "
                f"changed since revision {s.revision}; the report shows the figures approved, "
                f"cells marked {PENDING_MARK} have changed",
            )
        )
    return lines


def units_left_text(report: ReportData) -> list[str]:
    """The country's report: each unit not approved yet, one line."""
    state = {"open": "chưa kiểm tra / open", "validated": "chờ phê duyệt / validated"}
    return [
        f"{u.code} {u.name_vi} ({level_word(u.level)[0]}): "
        + (
            "chờ phê duyệt lại / pending revision"
            if u.pending_revision
            else state.get(u.state, u.state)
        )
        for u in report.signoff.units_left
    ]


def signoff_label(report: ReportData) -> str:
    """What the report is, in a few words, for the index."""
    s = report.signoff
    if report.level == "country":
        if not s.units_signing:
            return ""
        if s.units_left:
            return f"Dự thảo / Draft · còn / left {len(s.units_left)}/{s.units_signing}"
        return "Mọi đơn vị đã phê duyệt / every unit approved"
    if not s.approved:
        return "Dự thảo / Draft"
    label = f"Đã phê duyệt / approved, lần / revision {s.revision}"
    return label + (" · chờ phê duyệt lại / pending revision" if s.pending_revision else "")
