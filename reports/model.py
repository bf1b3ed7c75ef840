"""What a consolidated report shows: one unit (district, province or the country), one cycle.

`reports.load` builds these from the warehouse's marts; `reports.xlsx` and `reports.html` render
the same `ReportData`, so the two formats cannot drift apart. A `ReportData` is already safe to
publish: `reports.suppress` has replaced sensitive small counts before any renderer sees it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

ReportLevel = Literal["district", "province", "country"]
UnitLevel = Literal["commune", "district", "province", "country"]
TargetStatus = Literal["met", "not_met", "interim", "no_target", "unknown"]
Severity = Literal["error", "warning"]
ReporterKind = Literal["commune", "agency"]
ReturnStatus = Literal["on_time", "late", "missing"]
Suppression = Literal["small_count", "derived_rate", "complementary"]
"""Why a published value is withheld (see `reports.suppress`): the count itself is 1-4, the rate
is derived from such a count, or the cell is withheld so that the other one cannot be worked out
from the total."""

TARGET_STATUSES: tuple[TargetStatus, ...] = ("met", "not_met", "interim", "no_target", "unknown")
RETURN_STATUSES: tuple[ReturnStatus, ...] = ("on_time", "late", "missing")
SeriesBasis = Literal["as_reported", "carried_across_reform"]


@dataclass(frozen=True)
class UnitInfo:
    """A unit read in its cycle's hierarchy version (seed hierarchies)."""

    code: str
    level: UnitLevel
    name_vi: str
    name_ascii: str
    hierarchy: str
    parent_code: str | None = None
    parent_name_vi: str | None = None


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator of the reported unit, against its target (its plan's or the national
    milestone)."""

    indicator_code: str
    name_vi: str
    name_en: str
    unit: str
    """Display unit: `%`, `‰`, `/100.000` or `cuộc`."""
    better: str
    """`higher` or `lower`: which direction is an improvement."""
    numerator: float | None
    denominator: float | None
    value: float | None
    communes_included: int | None
    communes_in_force: int | None
    plan_id: str | None
    target_comparator: str | None
    target_value: float | None
    target_status: TargetStatus
    coverage_pct: float | None
    previous_value: float | None
    change: float | None
    """Change since the previous comparable cycle, in the indicator's own unit."""
    finding_ids: tuple[str, ...] = ()
    """Findings (ids in `ReportData.findings`) that touch this figure."""
    target_source: str | None = None
    """`plan` (the unit's plan: `plan_id`) or `national` (the programme's milestone
    `target_year`); None when no target applies."""
    target_year: int | None = None
    target_scope: str | None = None
    """`all`, `rural`, `urban`, or `rural, urban` for a unit judged on each area (CT04c)."""
    target_text: str | None = None
    """The plan's or the decision's wording of the target (Vietnamese)."""
    target_note_vi: str | None = None
    """Where the national target's indicator differs from this one (CT12)."""
    target_note_en: str | None = None


@dataclass(frozen=True)
class ReportingRow:
    """One expected reporter (a commune or an agency) and what became of its return."""

    reporter_code: str
    reporter_name_vi: str
    kind: ReporterKind
    unit_code: str
    district_code: str | None
    district_name_vi: str | None
    received: bool
    on_time: bool
    submitted_on: date | None
    superseded_count: int
    rejected_rows: int
    finding_ids: tuple[str, ...] = ()

    @property
    def status(self) -> ReturnStatus:
        if not self.received:
            return "missing"
        return "on_time" if self.on_time else "late"

    @property
    def late(self) -> bool:
        return self.received and not self.on_time

    @property
    def needs_attention(self) -> bool:
        """Missing, late, with rows refused by ingest, or with quality findings."""
        return self.status != "on_time" or self.rejected_rows > 0 or bool(self.finding_ids)

    @property
    def missing(self) -> bool:
        return not self.received


@dataclass(frozen=True)
class FindingRow:
    """A data-quality finding (`marts.fct_quality_issues`) inside the reported unit."""

    finding_id: str
    """`F0001`, ...: stable within one report, used to link figures to findings."""
    rule_id: str
    severity: Severity
    reporter_code: str | None
    unit_code: str | None
    unit_name_vi: str | None
    element_code: str | None
    indicator_code: str | None
    observed: float | None
    expected: float | str | None
    """A number, or the check's own words when the mart holds text (e.g. '≤ 480')."""
    message_vi: str
    message_en: str
    suppressed: bool = False
    """Observed/expected were sensitive small counts at commune level: withheld, see
    `reports.suppress`."""

    @property
    def subject(self) -> str:
        return self.indicator_code or self.element_code or ""


@dataclass(frozen=True)
class BreakdownCell:
    value: float | None
    suppressed: Suppression | None = None
    finding_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class BreakdownRow:
    """A part of the reported unit: a commune of a district, a district (or, after the July 2025
    reform, a commune) of a province, a province of the country."""

    unit_code: str
    unit_level: UnitLevel
    name_vi: str
    values: dict[str, BreakdownCell]
    """By indicator code."""
    reporting_rate: float | None
    timeliness_rate: float | None
    return_status: ReturnStatus | None = None
    """For a commune: what became of its own return."""
    finding_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportingRateRow:
    unit_code: str
    unit_level: UnitLevel
    name_vi: str
    reporter_kind: str
    """`commune`, `agency` or `all`."""
    expected_returns: int
    received_returns: int
    on_time_returns: int
    reporting_rate: float | None
    timeliness_rate: float | None


@dataclass(frozen=True)
class TrendPoint:
    """One cycle of an indicator's series on the reported unit (`marts.fct_indicator_series`)."""

    cycle: str
    value: float | None
    numerator: float | None
    denominator: float | None
    communes_included: int | None
    communes_in_force: int | None
    coverage_pct: float | None
    basis: SeriesBasis
    """`carried_across_reform`: an earlier hierarchy's communes carried onto today's unit."""
    includes_divided_commune: bool
    """The value includes part of an old commune divided between several new ones."""

    @property
    def carried(self) -> bool:
        return self.basis == "carried_across_reform"


@dataclass(frozen=True)
class IndicatorTrend:
    """An indicator's series on the reported unit, one point per cycle of `ReportData.trend_cycles`
    (None where the warehouse has no row), and the target that applies to the report's cycle."""

    indicator_code: str
    name_vi: str
    name_en: str
    unit: str
    points: tuple[TrendPoint | None, ...]
    target_comparator: str | None
    target_value: float | None
    plan_id: str | None
    target_source: str | None = None
    """`plan` or `national` (see `IndicatorRow`)."""
    target_year: int | None = None
    target_scope: str | None = None

    @property
    def charted(self) -> bool:
        """Drawn as a chart: a trend needs at least two cycles with a value."""
        return sum(1 for pt in self.points if pt is not None and pt.value is not None) >= 2


@dataclass(frozen=True)
class HierarchyChange:
    """Where a series crosses from one version of the hierarchy to the next (seed hierarchies):
    between `after_cycle`, the last cycle of the older version, and `before_cycle`."""

    after_cycle: str
    before_cycle: str
    valid_from: date
    """The newer version's first day."""
    label_vi: str
    label_en: str


@dataclass(frozen=True)
class UnitLeft:
    """A signing unit not approved yet (or with a revision pending), for the country's list."""

    level: str
    code: str
    name_vi: str
    state: str
    pending_revision: bool


@dataclass(frozen=True)
class Signoff:
    """What a report is (issue 15): a draft until its unit is approved; then the revision signed
    (its figures are that revision's, `marts.fct_signoff_states` and `ops.approved_*`), and
    whether figures changed since (a revision pending: the cells concerned are marked)."""

    approved: bool = False
    locked: bool = False
    revision: int | None = None
    approved_by: str | None = None
    approved_at: date | None = None
    """The day approved (UTC)."""
    comment: str | None = None
    pending_revision: bool = False
    figures_pending: int = 0
    returns_pending: int = 0
    pending_cells: frozenset[tuple[str, str]] = frozenset()
    """(unit_code, indicator_code) whose working figures differ from the revision signed."""
    units_left: tuple[UnitLeft, ...] = ()
    """The country's report: the signing units not approved (or with a revision pending)."""
    units_signing: int = 0
    """The country's report: how many units sign the cycle."""

    def is_pending(self, unit_code: str, indicator_code: str) -> bool:
        return (unit_code, indicator_code) in self.pending_cells


@dataclass(frozen=True)
class ReportData:
    unit: UnitInfo
    cycle: str
    previous_cycle: str
    is_annual: bool
    generated_from: str
    """The warehouse the figures come from (a DuckDB path or a PostgreSQL address)."""
    indicators: list[IndicatorRow]
    reporting: list[ReportingRow]
    findings: list[FindingRow]
    breakdown: list[BreakdownRow]
    breakdown_level: UnitLevel
    reporting_rates: list[ReportingRateRow]
    """The unit's own rates by reporter kind, then those of its parts (when they are districts
    or provinces)."""
    quality_checked: bool = True
    """False when the warehouse has no quality findings table for the cycle yet."""
    notes: list[str] = field(default_factory=list)
    returns_expected: dict[str, int] | None = None
    """Every expected return by status, when `reporting` lists only those needing attention
    (the country's report); None when it lists them all."""
    trend_cycles: list[str] = field(default_factory=list)
    """The cycles of the unit's series, oldest first: those of the report's kind (annual or
    half-year) up to the report's cycle that the warehouse holds."""
    trends: list[IndicatorTrend] = field(default_factory=list)
    """By indicator, in the order of `indicators`."""
    hierarchy_changes: list[HierarchyChange] = field(default_factory=list)
    signoff: Signoff = field(default_factory=Signoff)
    """Draft, or the revision approved (issue 15)."""

    @property
    def level(self) -> UnitLevel:
        return self.unit.level

    @property
    def own_rates(self) -> dict[str, ReportingRateRow]:
        """The reported unit's own rates by reporter kind."""
        return {
            r.reporter_kind: r
            for r in self.reporting_rates
            if r.unit_code == self.unit.code and r.unit_level == self.unit.level
        }

    @property
    def part_rates(self) -> list[ReportingRateRow]:
        """Rates (all reporters) of the unit's parts, when those are districts or provinces."""
        return [
            r
            for r in self.reporting_rates
            if not (r.unit_code == self.unit.code and r.unit_level == self.unit.level)
            and r.reporter_kind == "all"
        ]

    def findings_by_id(self) -> dict[str, FindingRow]:
        return {f.finding_id: f for f in self.findings}

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(TARGET_STATUSES, 0)
        for row in self.indicators:
            counts[row.target_status] += 1
        return counts

    def return_counts(self) -> dict[str, int]:
        """Every expected return by status (also when `reporting` lists only some)."""
        if self.returns_expected is not None:
            return dict(self.returns_expected)
        return count_returns(self.reporting)

    def severity_counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0}
        for f in self.findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        return counts


def count_returns(rows: Iterable[ReportingRow]) -> dict[str, int]:
    """Returns by status, every status included."""
    counts: dict[str, int] = dict.fromkeys(RETURN_STATUSES, 0)
    for row in rows:
        counts[row.status] += 1
    return counts
