"""Sensitive small counts in published reports: what is withheld, exactly.

The warehouse keeps every exact value; only the published reports (xlsx and html) withhold. The
rules below are applied while `reports.load` builds a `ReportData`, so no renderer ever receives a
withheld value (the cell holds `None` and a reason).

Sensitive counts are the elements the seed `data_elements` marks `is_sensitive`
(`core.reference.SENSITIVE_ELEMENTS`: abused, hiv_infants_positive, injury_deaths,
child_marriages, and abused_cases_police, the police's count of the same abused children,
whose publication would undo the suppression of `abused`).
Sensitive indicators are those whose numerator is a sensitive count: CT06, CT09, CT11b, CT13.

1. Only commune figures are withheld. A commune appears in a published report as a row of the
   breakdown (of a district, or of a province after the July 2025 reform) and as the unit of a
   quality finding. District, province and country figures are published exactly.
2. Breakdown, sensitive indicator, commune row, numerator 1-4:
   - a count indicator (no denominator: CT13) is shown as "<5" (`small_count`);
   - a rate (CT06, CT09, CT11b) is withheld and shown as "(<5)" (`derived_rate`): a rate and a
     population would give the count back.
   0 and 5 or more are published: zero identifies nobody, and the threshold is the one the
   issue sets. A missing value stays missing ("–").
3. Complementary suppression, count indicators only (CT13): the report also shows the total
   of the reported unit, so when exactly one commune of a breakdown is withheld, its count would
   be the total minus the others. The commune with the smallest published count (then the
   lowest code) is withheld too and shown as "×" (`complementary`). Rates need no second cell:
   the breakdown publishes no commune numerators or denominators to back-compute from.
4. Quality findings whose unit is a commune and whose element or indicator is sensitive: when
   the observed or expected value lies strictly between 0 and 5, both values are withheld and
   the message (which may quote them) is replaced by a neutral one naming the rule and the
   figure to check. The office still receives the full message in its alert email.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from core.reference import SENSITIVE_ELEMENTS
from reports.model import BreakdownCell, BreakdownRow, FindingRow, Suppression

SMALL_COUNT_LIMIT = 5
"""Counts 1..SMALL_COUNT_LIMIT-1 are small."""

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")

SENSITIVE_COUNTS: frozenset[str] = SENSITIVE_ELEMENTS

DISPLAY: dict[Suppression, str] = {
    "small_count": "<5",
    "derived_rate": "(<5)",
    "complementary": "×",
}
"""How a withheld cell reads, in both formats."""

LEGEND_VI = (
    "<5: từ 1 đến 4 trường hợp (không công bố số chính xác); (<5): tỷ lệ tính từ 1-4 trường hợp, "
    "không công bố; ×: ẩn để không suy ra được số đã ẩn từ tổng. Áp dụng cho số liệu cấp xã của "
    "trẻ em bị xâm hại, trẻ nhiễm HIV từ mẹ, tử vong do tai nạn thương tích và tảo hôn."
)
LEGEND_EN = (
    "<5: 1 to 4 cases (exact count withheld); (<5): rate derived from 1-4 cases, withheld; "
    "×: withheld so that a withheld count cannot be worked out from the total. Applies to "
    "commune figures on abused children, mother-to-child HIV, injury deaths and child marriages."
)


def is_small(value: float | str | None) -> bool:
    """A count strictly between 0 and 5; for text ('≤ 3'), any number in it."""
    if isinstance(value, str):
        return any(is_small(float(n.replace(",", "."))) for n in _NUMBER.findall(value))
    return value is not None and 0 < value < SMALL_COUNT_LIMIT


def sensitive_indicators(numerators: Mapping[str, str | None]) -> frozenset[str]:
    """Indicator codes whose numerator element is a sensitive count (CT06, CT09, CT11b, CT13)."""
    return frozenset(code for code, element in numerators.items() if element in SENSITIVE_COUNTS)


def commune_cell(
    numerator: float | None,
    value: float | None,
    *,
    sensitive: bool,
    is_count: bool,
    finding_ids: tuple[str, ...] = (),
) -> BreakdownCell:
    """The published cell of one commune and indicator (rule 2)."""
    if not sensitive:
        return BreakdownCell(value, None, finding_ids)
    count = numerator if numerator is not None else (value if is_count else None)
    # A non-zero rate whose count is unknown could hide a small count: withhold it too.
    unknown_count = count is None and value is not None and value != 0
    if is_small(count) or unknown_count:
        reason: Suppression = "small_count" if is_count else "derived_rate"
        return BreakdownCell(None, reason, finding_ids)
    return BreakdownCell(value, None, finding_ids)


def complementary(rows: list[BreakdownRow], count_indicators: Iterable[str]) -> list[BreakdownRow]:
    """Rule 3: withhold a second commune where exactly one count is withheld in a column."""
    changed = {i: dict(r.values) for i, r in enumerate(rows)}
    for code in count_indicators:
        withheld = [i for i, r in enumerate(rows) if (c := r.values.get(code)) and c.suppressed]
        if len(withheld) != 1:
            continue
        candidates = [
            (cell.value, r.unit_code, i)
            for i, r in enumerate(rows)
            if (cell := r.values.get(code)) is not None
            and cell.suppressed is None
            and cell.value is not None
        ]
        if not candidates:
            continue
        _, _, pick = min(candidates)
        old = changed[pick][code]
        changed[pick][code] = BreakdownCell(None, "complementary", old.finding_ids)
    return [replace(r, values=changed[i]) for i, r in enumerate(rows)]


def finding(row: FindingRow, *, unit_is_commune: bool, sensitive: frozenset[str]) -> FindingRow:
    """Rule 4: the published form of a finding."""
    if not unit_is_commune:
        return row
    about_sensitive = (row.element_code in SENSITIVE_COUNTS) or (row.indicator_code in sensitive)
    if not about_sensitive or not (is_small(row.observed) or is_small(row.expected)):
        return row
    subject = row.subject
    return replace(
        row,
        observed=None,
        expected=None,
        message_vi=(
            f"Kiểm tra số liệu {subject} theo quy tắc {row.rule_id} "
            "(số nhỏ, không công bố giá trị)."
        ),
        message_en=f"Check {subject} against rule {row.rule_id} (small count, values withheld).",
        suppressed=True,
    )
