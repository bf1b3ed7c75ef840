"""Build `ReportData` from the warehouse's marts, which hold every figure: the reports only
slice and format them (no sum, ratio or rate is computed here).

What a cycle's reports read is declared once, in `INPUTS`: the mart, the columns, the rows;
`load_cycle` reads them and `reports.inputs` digests the same rows to tell which reports a late
return changed. Each mart is read once per cycle into pandas; `ReportBuilder` then slices it per
unit without touching the warehouse again, which is what lets `reports.render` write ~760
reports from one read. A re-run that renders a few reports reads the indicator values and
series (the large marts) of their units only. The columns are those of the marts' dbt contracts
(`dbt_project/models/marts/_marts__models.yml`; tests/reports checks them).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import numpy as np
import pandas as pd

from core.cycles import Cycle
from core.hierarchies import hierarchy_version
from core.text import fold_diacritics
from core.values import is_missing
from core.warehouse import Warehouse, WarehouseConnection
from reports import suppress
from reports.errors import MissingMarts
from reports.model import (
    BreakdownCell,
    BreakdownRow,
    FindingRow,
    HierarchyChange,
    IndicatorRow,
    IndicatorTrend,
    ReportData,
    ReportingRateRow,
    ReportingRow,
    ReportLevel,
    ReturnStatus,
    SeriesBasis,
    Signoff,
    TargetStatus,
    TrendPoint,
    UnitInfo,
    UnitLeft,
    UnitLevel,
    count_returns,
)


@dataclass(frozen=True)
class MartInput:
    """Rows of one mart (schema `marts`) that a cycle's reports read."""

    mart: str
    columns: tuple[str, ...]
    where: str = ""
    """`?` placeholders work on DuckDB and PostgreSQL alike."""
    params: Callable[[Cycle], list[Any]] = lambda cycle: [cycle.id]
    groups: tuple[str, ...] = ()
    """The columns `reports.inputs` groups the rows by before hashing them: which reports read
    a group follows from these (see `reports.inputs._readers`)."""
    optional: bool = False
    """Read only when the mart exists (and, with `after_checks`, the checks have run)."""
    after_checks: bool = False
    """Absent until the quality checks have run on the cycle."""

    def sql(self, columns: str | None = None, where: str = "") -> str:
        conditions = " and ".join(c for c in (self.where, where) if c)
        return f"select {columns or ', '.join(self.columns)} from marts.{self.mart}" + (
            f" where {conditions}" if conditions else ""
        )


def columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


INPUTS: dict[str, MartInput] = {
    "indicator_values": MartInput(
        "fct_indicator_values",
        columns(
            "unit_level unit_code indicator_code numerator denominator value communes_included"
            " communes_in_force coverage_pct target_source plan_id target_year target_scope"
            " target_comparator target_value target_text target_note_vi target_note_en"
            " target_status previous_value value_change"
        ),
        "cycle = ?",
        groups=("unit_level", "unit_code"),
    ),
    "indicator_series": MartInput(
        "fct_indicator_series",
        columns(
            "hierarchy unit_level unit_code indicator_code cycle series_basis"
            " includes_divided_commune numerator denominator value communes_included"
            " communes_in_force coverage_pct"
        ),
        # The reports' units in the cycle's hierarchy (a post-reform unit's earlier cycles are
        # carried rows of that hierarchy), and the country in every hierarchy (it is the same
        # unit on both sides); cycles of the report's kind up to the report's own.
        "(hierarchy = ? or unit_level = 'country') and unit_level <> 'commune'"
        " and cycle like ? and cycle <= ?",
        params=lambda cycle: [cycle.hierarchy, f"%-{cycle.kind}", cycle.id],
        groups=("unit_level", "unit_code"),
    ),
    "return_status": MartInput(
        "fct_return_status",
        columns(
            "reporter_code reporter_kind reporter_name_vi unit_code district_code province_code"
            " received on_time submitted_on superseded_count rejected_rows"
        ),
        "cycle = ?",
        groups=("reporter_kind", "reporter_code", "district_code", "province_code"),
    ),
    "reporting_rates": MartInput(
        "fct_reporting_rates",
        columns(
            "unit_level unit_code unit_name_vi reporter_kind expected_returns received_returns"
            " on_time_returns reporting_rate timeliness_rate"
        ),
        "cycle = ?",
        groups=("unit_level", "unit_code"),
    ),
    "quality_issues": MartInput(
        "fct_quality_issues",
        columns(
            "rule_id severity reporter_code unit_code district_code province_code element_code"
            " indicator_code observed_value expected_value message_vi message_en"
        ),
        "cycle = ?",
        groups=("district_code", "province_code"),
        optional=True,
        after_checks=True,
    ),
    "signoff_states": MartInput(
        "fct_signoff_states",
        columns(
            "unit_level unit_code unit_name_vi state is_approved is_locked revision approved_by"
            " approved_at approval_comment pending_revision figures_pending returns_pending"
        ),
        "cycle = ?",
        groups=("unit_level", "unit_code"),
        optional=True,
    ),
    "pending_revisions": MartInput(
        "fct_pending_revisions",
        columns("signed_unit_level signed_unit_code change_kind unit_code item_code"),
        "cycle = ?",
        groups=("signed_unit_level", "signed_unit_code"),
        optional=True,
    ),
    "admin_units": MartInput(
        "dim_admin_units",
        columns("unit_level unit_code name_vi name_ascii district_code province_code"),
        "hierarchy = ?",
        params=lambda cycle: [cycle.hierarchy],
    ),
    "indicators": MartInput(
        "dim_indicators",
        columns("indicator_code name_vi name_en unit numerator denominator aggregation better"),
        params=lambda cycle: [],
    ),
}
"""What a cycle's reports read, by name: the one declaration `load_cycle` and
`reports.inputs` share."""


@dataclass
class CycleMarts:
    """The marts of one cycle, read once. Plain frames, so they pickle cheaply to workers."""

    cycle: str
    previous_cycle: str
    hierarchy: str
    is_annual: bool
    generated_from: str
    frames: dict[str, pd.DataFrame]
    """By `INPUTS` name; the indicator values are every unit's, or those of the units
    `load_cycle` was asked for; no quality issues when the checks have not run."""
    signed: dict[str, pd.DataFrame] = field(default_factory=dict)
    """By `INPUTS` name, the rows of the revisions approved and in force (`SIGNED`), with
    `signed_unit_level` and `signed_unit_code`: what an approved unit's report shows."""

    @property
    def quality_checked(self) -> bool:
        return "quality_issues" in self.frames

    def records(self, name: str) -> Iterator[dict[str, Any]]:
        frame = self.frames.get(name)
        if frame is None:
            return
        columns = list(frame.columns)
        for row in zip(*(frame[column].tolist() for column in columns), strict=True):
            yield dict(zip(columns, row, strict=True))


def _quality_checked(con: WarehouseConnection, cycle: Cycle) -> bool:
    """Whether the quality suites have run on the cycle (`cycle validate` logs each run)."""
    if not con.table_exists("quality", "validation_runs"):
        return False
    rows = con.query("select count(*) from quality.validation_runs where cycle = ?", [cycle.id])
    return bool(rows[0][0])


def check_marts(con: WarehouseConnection, wh: Warehouse, cycle: Cycle) -> set[str]:
    """Fail clearly when a mart the reports read is missing; return the names of the `INPUTS`
    to read (the optional ones only when they can be)."""
    absent = sorted(
        {
            i.mart
            for i in INPUTS.values()
            if not i.optional and not con.table_exists("marts", i.mart)
        }
    )
    if absent:
        raise MissingMarts(
            f"Kho dữ liệu {wh.describe()} thiếu bảng / lacks tables: "
            + ", ".join(f"marts.{m}" for m in absent)
            + f" (chạy / run `cycle transform {cycle.id}`)"
        )
    checked = _quality_checked(con, cycle)
    return {
        name
        for name, i in INPUTS.items()
        if not i.optional or ((checked or not i.after_checks) and con.table_exists("marts", i.mart))
    }


SIGNED = {
    "indicator_values": "approved_indicator_values",
    "reporting_rates": "approved_reporting_rates",
    "return_status": "approved_return_status",
    "quality_issues": "approved_quality_issues",
}
"""`INPUTS` whose approved revisions an approved unit's report reads (schema ops,
`core.signoffs.SNAPSHOTS`): the same columns, as they were when the unit was approved."""


def signed_sql(name: str) -> str:
    """The rows of the revisions in force (the units approved now) of input `name`."""
    i = INPUTS[name]
    picked = ", ".join(f"a.{c}" for c in i.columns)
    return (
        f"select a.signed_unit_level, a.signed_unit_code, {picked} from ops.{SIGNED[name]} as a"
        " join marts.fct_signoff_states as s on s.cycle = a.cycle"
        " and s.unit_level = a.signed_unit_level and s.unit_code = a.signed_unit_code"
        " and s.revision = a.revision where a.cycle = ? and s.is_approved"
    )


def _read_signed(
    con: WarehouseConnection, cycle: Cycle, unit_codes: Collection[str] | None
) -> dict[str, pd.DataFrame]:
    signed: dict[str, pd.DataFrame] = {}
    for name in SIGNED:
        sql = signed_sql(name)
        params: list[Any] = [cycle.id]
        if unit_codes is not None:
            sql += " and a.signed_unit_code in (select unnest(cast(? as varchar[])))"
            params = [*params, sorted(unit_codes)]
        signed[name] = _plain(con.query_df(sql, params))
    return signed


def load_cycle(
    warehouse: str | Warehouse, cycle: Cycle, *, unit_codes: Collection[str] | None = None
) -> CycleMarts:
    """Read every mart a cycle's reports need, once, read-only.

    `unit_codes` limits the indicator values to those units (as the warehouse spells their
    codes); every other mart is small and read whole."""
    wh = warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse)
    frames: dict[str, pd.DataFrame] = {}
    with wh.connect(read_only=True) as con:
        for name in sorted(check_marts(con, wh, cycle)):
            i = INPUTS[name]
            if name in ("indicator_values", "indicator_series") and unit_codes is not None:
                sql = i.sql(where="unit_code in (select unnest(cast(? as varchar[])))")
                frame = con.query_df(sql, [*i.params(cycle), sorted(unit_codes)])
            else:
                frame = con.query_df(i.sql(), i.params(cycle))
            frames[name] = _plain(frame)
        signed = {}
        if "signoff_states" in frames and con.table_exists("ops", "approved_indicator_values"):
            signed = _read_signed(con, cycle, unit_codes)
    return CycleMarts(
        cycle=cycle.id,
        previous_cycle=cycle.previous_comparable.id,
        hierarchy=cycle.hierarchy,
        is_annual=cycle.is_annual,
        generated_from=wh.describe(),
        frames=frames,
        signed=signed,
    )


# -- what the two backends return (DuckDB: numpy dtypes, NaN; PostgreSQL: Decimal, date) --------


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as plain Python values with None for missing, numbers as float, dates as
    `date`, whatever the backend gave: the marts' contracts fix the types, this only evens out
    how each driver hands them over."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            out[column] = series.astype(object)
        elif pd.api.types.is_numeric_dtype(series):
            numeric = pd.to_numeric(series, errors="coerce").astype("float64")
            out[column] = numeric.astype(object).where(numeric.notna(), None)
        else:
            # Codes and names repeat: convert each distinct value once, then spread them (a
            # missing value's code, -1, picks the None at the end).
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
            plain = np.array([*map(_value, uniques.tolist()), None], dtype=object)
            out[column] = pd.Series(plain[codes], index=frame.index, dtype=object)
    return out


def _value(value: Any) -> Any:
    if is_missing(value):
        return None
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    return value


def _number_or_text(value: Any) -> float | str | None:
    """A finding's bound: a number, or the check's own words ('≤ 480')."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value.strip() or None
    return cast(float | None, value)


def _int(value: float | None) -> int:
    return int(value) if value is not None else 0


# -- slicing per unit ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRef:
    """A unit that gets a report."""

    level: ReportLevel
    code: str
    name_vi: str
    name_ascii: str
    province_code: str | None


def unit_ref(level: ReportLevel, code: str, row: Mapping[str, Any] | None) -> UnitRef:
    """A unit by its `dim_admin_units` row (cleaned), its code standing in for a missing name."""
    row = row or {}
    name_vi = row.get("name_vi") or code
    return UnitRef(
        level,
        code,
        name_vi,
        row.get("name_ascii") or fold_diacritics(name_vi),
        row.get("province_code"),
    )


def units_to_report(
    hierarchy: str,
    found: Iterable[tuple[str, str]],
    units: Mapping[tuple[str, str], Mapping[str, Any]],
) -> list[UnitRef]:
    """The reports of a cycle: every district (before the reform) and province among `found`
    (the units with indicator values or reporting rates), then the country; a province's
    districts follow it. `units` are the cycle's `dim_admin_units` rows by (level, code)."""
    has_districts = hierarchy_version(hierarchy).has_districts
    levels = ("district", "province") if has_districts else ("province",)
    present = {key for key in found if key[0] in levels}
    provinces = sorted(code for level, code in present if level == "province")
    districts = sorted(code for level, code in present if level == "district")
    province_of = {
        code: (units.get(("district", code)) or {}).get("province_code") for code in districts
    }
    out: list[UnitRef] = []
    for province in provinces:
        out.append(unit_ref("province", province, units.get(("province", province))))
        out.extend(
            unit_ref("district", d, units.get(("district", d)))
            for d in districts
            if province_of[d] == province
        )
    placed = {(u.level, u.code) for u in out}
    out.extend(
        unit_ref("district", d, units.get(("district", d)))
        for d in districts
        if ("district", d) not in placed
    )
    # the country: its row of dim_admin_units (one per hierarchy)
    out.extend(
        unit_ref("country", code, row) for (level, code), row in units.items() if level == "country"
    )
    return out


@dataclass(frozen=True)
class _Meta:
    code: str
    name_vi: str
    name_en: str
    unit: str
    numerator: str | None
    denominator: str | None
    is_count: bool
    better: str


_VALUE_KEYS = INPUTS["indicator_values"].columns[3:]
"""The figures of an indicator value (after its unit and indicator keys)."""
_NUMERATOR, _VALUE = _VALUE_KEYS.index("numerator"), _VALUE_KEYS.index("value")
_NO_VALUES = (None,) * len(_VALUE_KEYS)


class ReportBuilder:
    """Indexes one cycle's marts once, then builds the `ReportData` of any unit in it."""

    def __init__(self, marts: CycleMarts) -> None:
        self.marts = marts
        self.meta: dict[str, _Meta] = {
            r["indicator_code"]: _Meta(
                code=r["indicator_code"],
                name_vi=r["name_vi"] or "",
                name_en=r["name_en"] or "",
                unit=r["unit"] or "",
                numerator=r["numerator"],
                denominator=r["denominator"],
                is_count=r["aggregation"] == "count",
                better=r["better"] or "higher",
            )
            for r in marts.records("indicators")
        }
        self.indicator_codes = sorted(self.meta)
        self.sensitive = suppress.sensitive_indicators(
            {code: m.numerator for code, m in self.meta.items()}
        )
        self.indicators_of_element: dict[str, set[str]] = defaultdict(set)
        for m in self.meta.values():
            for element in (m.numerator, m.denominator):
                if element and not element.startswith("@"):
                    self.indicators_of_element[element].add(m.code)

        # The hierarchy of the cycle: codes are unique across levels (2, 3, 5 digits).
        self.units: dict[tuple[str, str], dict[str, Any]] = {}
        self.name_by_code: dict[str, str] = {}
        self.communes_of: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.districts_of: dict[str, list[str]] = defaultdict(list)
        for r in marts.records("admin_units"):
            self.units[(r["unit_level"], r["unit_code"])] = r
            self.name_by_code[r["unit_code"]] = r["name_vi"] or r["unit_code"]
            if r["unit_level"] == "commune":
                if r["district_code"]:
                    self.communes_of[("district", r["district_code"])].append(r["unit_code"])
                self.communes_of[("province", r["province_code"])].append(r["unit_code"])
            elif r["unit_level"] == "district":
                self.districts_of[r["province_code"]].append(r["unit_code"])

        self._index(marts.frames, quality_checked=marts.quality_checked)
        # the series are read as built: an approved report signs its own cycle's figures
        self.series = self._index_series(marts)

        # sign-off (issue 15): each unit's state, and the cells changed since its revision
        self.signoffs = {
            (r["unit_level"], r["unit_code"]): r for r in marts.records("signoff_states")
        }
        self.pending_cells: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        for r in marts.records("pending_revisions"):
            if r["change_kind"] == "figure":
                self.pending_cells[(r["signed_unit_level"], r["signed_unit_code"])].add(
                    (r["unit_code"], r["item_code"])
                )

    def _index(self, frames: Mapping[str, pd.DataFrame], *, quality_checked: bool) -> None:
        """Index the cycle-grained inputs: the working marts, or a revision approved."""
        self.quality_checked = quality_checked

        def records(name: str) -> Iterator[dict[str, Any]]:
            frame = frames.get(name)
            if frame is None:
                return
            columns = list(frame.columns)
            for row in zip(*(frame[column].tolist() for column in columns), strict=True):
                yield dict(zip(columns, row, strict=True))

        self.values = self._index_values(frames["indicator_values"])

        self.rates: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        for r in records("reporting_rates"):
            self.rates[(r["unit_level"], r["unit_code"])][r["reporter_kind"]] = r

        self.status = list(records("return_status"))
        self.status_by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for r in self.status:
            if r["district_code"]:
                self.status_by[("district", r["district_code"])].append(r)
            if r["province_code"]:
                self.status_by[("province", r["province_code"])].append(r)
        self.commune_status = {
            r["reporter_code"]: r for r in self.status if r["reporter_kind"] == "commune"
        }

        self.issues = list(records("quality_issues"))
        self.issues_by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for r in self.issues:
            if r["district_code"]:
                self.issues_by[("district", r["district_code"])].append(r)
            if r["province_code"]:
                self.issues_by[("province", r["province_code"])].append(r)

    # -- which units get a report -------------------------------------------------------------
    def units_to_report(self) -> list[UnitRef]:
        """Every district and province with figures or returns in the cycle, then the country;
        a province's districts follow it."""
        return units_to_report(self.marts.hierarchy, [*self.values, *self.rates], self.units)

    def _ref(self, level: ReportLevel, code: str) -> UnitRef:
        return unit_ref(level, code, self.units.get((level, code)))

    # -- one report ---------------------------------------------------------------------------
    def build(self, level: ReportLevel, code: str) -> ReportData:
        """The unit's report: an approved unit's shows the revision it signed (with the cells
        changed since marked), any other the working marts, as a draft."""
        state = self.signoffs.get((level, code))
        approved = bool(state and state["is_approved"]) and level != "country"
        data = (self._signed(level, code) if approved else self)._build(level, code)
        return dataclasses.replace(data, signoff=self._signoff(level, code))

    def _signed(self, level: str, code: str) -> ReportBuilder:
        """This builder over the unit's revision in force (`CycleMarts.signed`)."""
        frames = {}
        for name, frame in self.marts.signed.items():
            mine = frame[
                (frame["signed_unit_level"] == level) & (frame["signed_unit_code"] == code)
            ]
            frames[name] = mine.drop(columns=["signed_unit_level", "signed_unit_code"])
        signed = copy.copy(self)
        signed._index(frames, quality_checked=True)
        return signed

    def _signoff(self, level: str, code: str) -> Signoff:
        if level == "country":
            left = [
                UnitLeft(lv, c, r["unit_name_vi"] or c, r["state"], bool(r["pending_revision"]))
                for (lv, c), r in sorted(
                    self.signoffs.items(), key=lambda kv: (kv[1]["unit_code"], kv[0][0])
                )
                if not r["is_approved"] or r["pending_revision"]
            ]
            return Signoff(units_left=tuple(left), units_signing=len(self.signoffs))
        r = self.signoffs.get((level, code))
        if not r or not r["is_approved"]:
            return Signoff()
        return Signoff(
            approved=True,
            locked=bool(r["is_locked"]),
            revision=_opt_int(r["revision"]),
            approved_by=r["approved_by"],
            approved_at=r["approved_at"],
            comment=r["approval_comment"],
            pending_revision=bool(r["pending_revision"]),
            figures_pending=_int(r["figures_pending"]),
            returns_pending=_int(r["returns_pending"]),
            pending_cells=frozenset(self.pending_cells.get((level, code), set())),
        )

    def _build(self, level: ReportLevel, code: str) -> ReportData:
        unit = self._unit_info(level, code)
        scoped = self._findings(level, code)
        findings = [f for f, _ in scoped]
        affects = self._affected_indicators(findings)

        indicators = self._indicator_rows(level, code, findings, affects)
        reporting = self._reporting_rows(level, code, findings)
        returns_expected: dict[str, int] | None = None
        if level == "country":
            # ~12,000 returns nationally: the country lists those needing attention; every
            # return is in its province's report (and in marts.fct_return_status).
            returns_expected = count_returns(reporting)
            reporting = [row for row in reporting if row.needs_attention]
        breakdown_level, breakdown = self._breakdown(level, code, scoped, affects)
        rates = self._rate_rows(level, code, breakdown_level, [b.unit_code for b in breakdown])

        notes: list[str] = []
        if level == "country":
            provinces = sum(1 for (lv, _) in self.units if lv == "province")
            if len(breakdown) < provinces:
                notes.append(
                    f"Tổng hợp từ {len(breakdown)}/{provinces} tỉnh trong phạm vi thu thập / "
                    f"Aggregated over the {len(breakdown)} of {provinces} provinces in scope"
                )
        cycles, trends, changes = self._trends(level, code, indicators)
        return ReportData(
            unit=unit,
            cycle=self.marts.cycle,
            previous_cycle=self.marts.previous_cycle,
            is_annual=self.marts.is_annual,
            generated_from=self.marts.generated_from,
            indicators=indicators,
            reporting=reporting,
            findings=findings,
            breakdown=breakdown,
            breakdown_level=breakdown_level,
            reporting_rates=rates,
            quality_checked=self.quality_checked,
            notes=notes,
            returns_expected=returns_expected,
            trend_cycles=cycles,
            trends=trends,
            hierarchy_changes=changes,
        )

    def _unit_info(self, level: ReportLevel, code: str) -> UnitInfo:
        ref = self._ref(level, code)
        parent = ref.province_code if level == "district" else None
        return UnitInfo(
            code=code,
            level=level,
            name_vi=ref.name_vi,
            name_ascii=ref.name_ascii,
            hierarchy=self.marts.hierarchy,
            parent_code=parent,
            parent_name_vi=self.name_by_code.get(parent) if parent else None,
        )

    def _indicator_rows(
        self, level: str, code: str, findings: list[FindingRow], affects: dict[str, set[str]]
    ) -> list[IndicatorRow]:
        values = self.values.get((level, code), {})
        rows = []
        for indicator in self.indicator_codes:
            m = self.meta[indicator]
            v = (
                dict(zip(_VALUE_KEYS, values[indicator], strict=True))
                if indicator in values
                else {}
            )
            status = v.get("target_status") or (
                "unknown" if v.get("value") is None else "no_target"
            )
            rows.append(
                IndicatorRow(
                    indicator_code=indicator,
                    name_vi=m.name_vi,
                    name_en=m.name_en,
                    unit=m.unit,
                    better=m.better,
                    numerator=v.get("numerator"),
                    denominator=v.get("denominator"),
                    value=v.get("value"),
                    communes_included=_opt_int(v.get("communes_included")),
                    communes_in_force=_opt_int(v.get("communes_in_force")),
                    coverage_pct=v.get("coverage_pct"),
                    plan_id=v.get("plan_id"),
                    target_comparator=v.get("target_comparator"),
                    target_value=v.get("target_value"),
                    target_status=cast(TargetStatus, status),
                    previous_value=v.get("previous_value"),
                    change=v.get("value_change"),
                    finding_ids=tuple(
                        f.finding_id for f in findings if indicator in affects[f.finding_id]
                    ),
                    target_source=v.get("target_source"),
                    target_year=_opt_int(v.get("target_year")),
                    target_scope=v.get("target_scope"),
                    target_text=v.get("target_text"),
                    target_note_vi=v.get("target_note_vi"),
                    target_note_en=v.get("target_note_en"),
                )
            )
        return rows

    def _trends(
        self, level: str, code: str, indicators: list[IndicatorRow]
    ) -> tuple[list[str], list[IndicatorTrend], list[HierarchyChange]]:
        """The unit's series (`marts.fct_indicator_series`), each with the target of the
        report's cycle, and where the series crosses from one hierarchy version to the next
        (the version in force on each cycle's last day, seed hierarchies)."""
        series = self.series.get((level, code), {})
        cycles = sorted({c for rows in series.values() for c in rows}, key=Cycle.parse)
        if len(cycles) < 2:  # one cycle is no trend: its figures are the indicators table's
            return [], [], []
        trends = []
        for row in indicators:
            rows = series.get(row.indicator_code, {})
            trends.append(
                IndicatorTrend(
                    indicator_code=row.indicator_code,
                    name_vi=row.name_vi,
                    name_en=row.name_en,
                    unit=row.unit,
                    points=tuple(_point(c, rows[c]) if c in rows else None for c in cycles),
                    target_comparator=row.target_comparator,
                    target_value=row.target_value,
                    plan_id=row.plan_id,
                    target_source=row.target_source,
                    target_year=row.target_year,
                    target_scope=row.target_scope,
                )
            )
        changes = []
        for before, after in itertools.pairwise(cycles):
            old, new = Cycle.parse(before).version, Cycle.parse(after).version
            if old != new:
                changes.append(
                    HierarchyChange(before, after, new.valid_from, new.label_vi, new.label_en)
                )
        return cycles, trends, changes

    def _reporting_rows(
        self, level: str, code: str, findings: list[FindingRow]
    ) -> list[ReportingRow]:
        records = sorted(
            self.status if level == "country" else self.status_by.get((level, code), []),
            key=lambda r: (
                r["province_code"] or "",
                r["district_code"] or "",
                r["reporter_kind"] == "agency",
                r["reporter_code"],
            ),
        )
        by_reporter: dict[str, list[str]] = defaultdict(list)
        for f in findings:
            if f.reporter_code:
                by_reporter[f.reporter_code].append(f.finding_id)
        rows = [
            ReportingRow(
                reporter_code=r["reporter_code"],
                reporter_name_vi=r["reporter_name_vi"] or r["reporter_code"],
                kind="agency" if r["reporter_kind"] == "agency" else "commune",
                unit_code=r["unit_code"] or "",
                district_code=r["district_code"],
                district_name_vi=self.name_by_code.get(r["district_code"] or ""),
                received=r["received"],
                on_time=r["on_time"] and r["received"],
                submitted_on=r["submitted_on"],
                superseded_count=_int(r["superseded_count"]),
                rejected_rows=_int(r["rejected_rows"]),
                finding_ids=tuple(by_reporter.get(r["reporter_code"], ())),
            )
            for r in records
        ]
        return rows

    def _findings(self, level: str, code: str) -> list[tuple[FindingRow, dict[str, Any]]]:
        """The findings inside the unit, numbered (errors first), each with its mart row."""
        records = self.issues if level == "country" else self.issues_by.get((level, code), [])
        ordered = sorted(
            records,
            key=lambda r: (
                r["severity"] != "error",
                r["unit_code"] or "",
                r["reporter_code"] or "",
                r["rule_id"] or "",
                r["indicator_code"] or r["element_code"] or "",
            ),
        )
        out = []
        for i, r in enumerate(ordered, start=1):
            unit_code = r["unit_code"]
            row = FindingRow(
                finding_id=f"F{i:04d}",
                rule_id=r["rule_id"] or "",
                severity="error" if r["severity"] == "error" else "warning",
                reporter_code=r["reporter_code"],
                unit_code=unit_code,
                unit_name_vi=self.name_by_code.get(unit_code or ""),
                element_code=r["element_code"],
                indicator_code=r["indicator_code"],
                observed=r["observed_value"],
                expected=_number_or_text(r["expected_value"]),
                message_vi=r["message_vi"] or "",
                message_en=r["message_en"] or "",
            )
            out.append(
                (
                    suppress.finding(
                        row,
                        unit_is_commune=("commune", unit_code or "") in self.units,
                        sensitive=self.sensitive,
                    ),
                    r,
                )
            )
        return out

    def _affected_indicators(self, findings: list[FindingRow]) -> dict[str, set[str]]:
        """The indicators each finding touches: its own, or those built on its element."""
        out: dict[str, set[str]] = {}
        for f in findings:
            codes: set[str] = set()
            if f.indicator_code:
                codes.add(f.indicator_code)
            if f.element_code:
                codes |= self.indicators_of_element.get(f.element_code, set())
            out[f.finding_id] = codes
        return out

    def _parts(self, level: str, code: str) -> tuple[UnitLevel, list[str]]:
        if level == "country":
            return "province", sorted(
                {c for lv, c in self.values if lv == "province"}
                | {c for lv, c in self.rates if lv == "province"}
            )
        if level == "province" and hierarchy_version(self.marts.hierarchy).has_districts:
            districts = self.districts_of.get(code, [])
            return "district", sorted(
                d
                for d in districts
                if ("district", d) in self.values or ("district", d) in self.rates
            )
        in_force = self.communes_of.get((level, code), [])
        expected = {
            r["reporter_code"]
            for r in self.status_by.get((level, code), [])
            if r["reporter_kind"] == "commune"
        }
        return "commune", sorted(
            c for c in in_force if c in expected or ("commune", c) in self.values
        )

    def _breakdown(
        self,
        level: str,
        code: str,
        scoped: list[tuple[FindingRow, dict[str, Any]]],
        affects: dict[str, set[str]],
    ) -> tuple[UnitLevel, list[BreakdownRow]]:
        part_level, parts = self._parts(level, code)
        key_of = {"commune": "unit_code", "district": "district_code", "province": "province_code"}[
            part_level
        ]
        by_part: dict[str, list[str]] = defaultdict(list)
        for f, r in scoped:
            if r[key_of]:
                by_part[r[key_of]].append(f.finding_id)

        rows = []
        for part in parts:
            values = self.values.get((part_level, part), {})
            part_findings = by_part.get(part, [])
            cells: dict[str, BreakdownCell] = {}
            for indicator in self.indicator_codes:
                v = values.get(indicator, _NO_VALUES)
                fids = (
                    tuple(fid for fid in part_findings if indicator in affects[fid])
                    if part_findings
                    else ()
                )
                if part_level == "commune":
                    cells[indicator] = suppress.commune_cell(
                        v[_NUMERATOR],
                        v[_VALUE],
                        sensitive=indicator in self.sensitive,
                        is_count=self.meta[indicator].is_count,
                        finding_ids=fids,
                    )
                else:
                    cells[indicator] = BreakdownCell(v[_VALUE], None, fids)
            status: ReturnStatus | None = None
            rate = timeliness = None
            if part_level == "commune":
                s = self.commune_status.get(part)
                if s is not None:
                    status = (
                        "missing" if not s["received"] else "on_time" if s["on_time"] else "late"
                    )
            else:
                all_rates = self.rates.get((part_level, part), {}).get("all")
                if all_rates:
                    rate, timeliness = all_rates["reporting_rate"], all_rates["timeliness_rate"]
            rows.append(
                BreakdownRow(
                    unit_code=part,
                    unit_level=part_level,
                    name_vi=self.name_by_code.get(part, part),
                    values=cells,
                    reporting_rate=rate,
                    timeliness_rate=timeliness,
                    return_status=status,
                    finding_ids=tuple(part_findings),
                )
            )
        if part_level == "commune":
            rows = suppress.complementary(
                rows,
                [c for c in self.indicator_codes if c in self.sensitive and self.meta[c].is_count],
            )
        return part_level, rows

    def _rate_rows(
        self, level: str, code: str, part_level: UnitLevel, parts: list[str]
    ) -> list[ReportingRateRow]:
        own = self.rates.get((level, code), {})
        rows = [_rate_row(own[kind]) for kind in ("commune", "agency", "all") if kind in own]
        if part_level != "commune":
            all_rates = (self.rates.get((part_level, part), {}).get("all") for part in parts)
            rows.extend(_rate_row(r) for r in all_rates if r)
        return rows

    # -- indexes --------------------------------------------------------------------------------
    @staticmethod
    def _index_series(
        marts: CycleMarts,
    ) -> dict[tuple[str, str], dict[str, dict[str, dict[str, Any]]]]:
        """Series rows by unit, indicator and cycle. The country's rows come in every
        hierarchy (its code is the same in each): for a cycle held as reported and carried,
        its own row as reported is shown; the country is one unit across the reform, its
        figures are those its reports published."""
        out: dict[tuple[str, str], dict[str, dict[str, dict[str, Any]]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for r in marts.records("indicator_series"):
            rows = out[(r["unit_level"], r["unit_code"])][r["indicator_code"]]
            held = rows.get(r["cycle"])
            if held is None or (r["series_basis"] == "as_reported" != held["series_basis"]):
                rows[r["cycle"]] = r
        return out

    @staticmethod
    def _index_values(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, tuple[Any, ...]]]:
        """Each unit's figures by indicator, in `_VALUE_KEYS` order: tuples, not dicts, since
        most of a national cycle's rows are communes' and only the breakdown reads them."""
        out: dict[tuple[str, str], dict[str, tuple[Any, ...]]] = defaultdict(dict)
        keys = zip(
            *(frame[c].tolist() for c in INPUTS["indicator_values"].columns[:3]), strict=True
        )
        figures = zip(*(frame[column].tolist() for column in _VALUE_KEYS), strict=True)
        for (level, code, indicator), row in zip(keys, figures, strict=True):
            out[(level, code)][indicator] = row
        return out


def _point(cycle: str, r: dict[str, Any]) -> TrendPoint:
    return TrendPoint(
        cycle=cycle,
        value=r["value"],
        numerator=r["numerator"],
        denominator=r["denominator"],
        communes_included=_opt_int(r["communes_included"]),
        communes_in_force=_opt_int(r["communes_in_force"]),
        coverage_pct=r["coverage_pct"],
        basis=cast(SeriesBasis, r["series_basis"]),
        includes_divided_commune=bool(r["includes_divided_commune"]),
    )


def _opt_int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _rate_row(r: dict[str, Any]) -> ReportingRateRow:
    return ReportingRateRow(
        unit_code=r["unit_code"],
        unit_level=cast(UnitLevel, r["unit_level"]),
        name_vi=r["unit_name_vi"] or r["unit_code"],
        reporter_kind=r["reporter_kind"],
        expected_returns=_int(r["expected_returns"]),
        received_returns=_int(r["received_returns"]),
        on_time_returns=_int(r["on_time_returns"]),
        reporting_rate=r["reporting_rate"],
        timeliness_rate=r["timeliness_rate"],
    )


def load_report(
    warehouse: str | Warehouse, cycle: Cycle, level: ReportLevel, code: str
) -> ReportData:
    """One unit's report data (reads the whole cycle; use `ReportBuilder` for many units)."""
    return ReportBuilder(load_cycle(warehouse, cycle)).build(level, code)
