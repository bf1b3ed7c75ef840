"""Build `ReportData` from the warehouse's marts.

The rows the reports read are in `FILTERS` below (`reports.inputs` digests the same rows), and
every query selects named columns (`MART_COLUMNS`), so a renamed column fails loudly here and
nowhere else. Each mart is read once per cycle (`load_cycle`) into pandas; `ReportBuilder` then
slices it per unit without touching the warehouse again, which is what lets `reports.render`
write ~760 reports from one read. A re-run that renders a few reports reads the indicator values
(the one large mart) of their units only.

The marts (issue 3, issue 4): `fct_indicator_values`, `fct_return_status`,
`fct_reporting_rates`, `fct_quality_issues`, `dim_admin_units`, `dim_indicators`, in schema
`marts`. Levels are `commune`, `district`, `province`; when the marts hold no `country` rows the
country is summed here from the provinces, like for like (Σ numerator / Σ denominator × factor).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from core.cycles import Cycle
from core.hierarchies import hierarchy_version
from core.reference import AdminUnit, agency_name_vi
from core.text import fold_diacritics
from core.warehouse import Warehouse, WarehouseConnection
from reports import suppress
from reports.errors import MissingMarts
from reports.model import (
    BreakdownCell,
    BreakdownRow,
    FindingRow,
    IndicatorRow,
    ReportData,
    ReportingRateRow,
    ReportingRow,
    ReportLevel,
    ReturnStatus,
    TargetStatus,
    UnitInfo,
    UnitLevel,
    count_returns,
)

COUNTRY_CODE = "VN"
COUNTRY_NAME_VI = "Toàn quốc"
COUNTRY_NAME_ASCII = "Toan quoc"

ColumnKind = Literal["text", "number", "bool", "date", "number_or_text"]
T: ColumnKind = "text"
N: ColumnKind = "number"
B: ColumnKind = "bool"
D: ColumnKind = "date"

MART_TYPES: dict[str, dict[str, ColumnKind]] = {
    "fct_indicator_values": {
        "cycle": T,
        "hierarchy": T,
        "unit_code": T,
        "unit_level": T,
        "indicator_code": T,
        "numerator": N,
        "denominator": N,
        "value": N,
        "communes_included": N,
        "communes_in_force": N,
        "plan_id": T,
        "target_comparator": T,
        "target_value": N,
        "target_status": T,
        "previous_value": N,
    },
    "fct_return_status": {
        "cycle": T,
        "reporter_code": T,
        "reporter_kind": T,
        "unit_code": T,
        "district_code": T,
        "province_code": T,
        "received": B,
        "on_time": B,
        "superseded_count": N,
        "rejected_rows": N,
        "submitted_on": D,
    },
    "fct_reporting_rates": {
        "cycle": T,
        "unit_code": T,
        "unit_level": T,
        "reporter_kind": T,
        "expected_returns": N,
        "received_returns": N,
        "on_time_returns": N,
        "reporting_rate": N,
        "timeliness_rate": N,
    },
    "fct_quality_issues": {
        "cycle": T,
        "rule_id": T,
        "severity": T,
        "reporter_code": T,
        "unit_code": T,
        "district_code": T,
        "province_code": T,
        "element_code": T,
        "indicator_code": T,
        "observed_value": N,
        # the bound may be a number or the check's words ('≤ 480'): keep both
        "expected_value": "number_or_text",
        "message_vi": T,
        "message_en": T,
    },
    "dim_admin_units": {
        "hierarchy": T,
        "unit_level": T,
        "unit_code": T,
        "name_vi": T,
        "name_ascii": T,
        "district_code": T,
        "province_code": T,
    },
    "dim_indicators": {
        "indicator_code": T,
        "name_vi": T,
        "name_en": T,
        "unit": T,
        "factor": N,
        "numerator": T,
        "denominator": T,
        "better": T,
    },
}
"""The columns the reports read, by mart (all in schema `marts`), and how each is read."""

MART_COLUMNS: dict[str, tuple[str, ...]] = {
    mart: tuple(types) for mart, types in MART_TYPES.items()
}


def _select(mart: str, where: str = "") -> str:
    columns = ", ".join(MART_COLUMNS[mart])
    return f"select {columns} from marts.{mart}" + (f" where {where}" if where else "")


FILTERS: dict[str, tuple[str, str]] = {
    # name: (mart, where); `?` placeholders work on DuckDB and PostgreSQL alike.
    "indicator_values": ("fct_indicator_values", "cycle = ?"),
    "previous_top_values": (
        "fct_indicator_values",
        "cycle = ? and unit_level in ('province', 'country')",
    ),
    "return_status": ("fct_return_status", "cycle = ?"),
    "reporting_rates": ("fct_reporting_rates", "cycle = ?"),
    "quality_issues": ("fct_quality_issues", "cycle = ?"),
    "admin_units": ("dim_admin_units", "hierarchy = ?"),
    "indicators": ("dim_indicators", ""),
}
"""The rows of each mart a cycle's reports read (`reports.inputs` digests the same rows)."""

QUERIES: dict[str, tuple[str, str]] = {
    name: (mart, _select(mart, where)) for name, (mart, where) in FILTERS.items()
}

UNITS_VALUES_SQL = _select(
    "fct_indicator_values", "cycle = ? and unit_code in (select unnest(cast(? as varchar[])))"
)
"""The indicator values of some units only (a re-run that renders a few reports)."""


def query_params(cycle: Cycle) -> dict[str, list[Any]]:
    """The parameters of each of `FILTERS` for a cycle."""
    return {
        "indicator_values": [cycle.id],
        "previous_top_values": [cycle.previous_comparable.id],
        "return_status": [cycle.id],
        "reporting_rates": [cycle.id],
        "quality_issues": [cycle.id],
        "admin_units": [cycle.hierarchy],
        "indicators": [],
    }


@dataclass
class CycleMarts:
    """The marts of one cycle, read once. Plain frames, so they pickle cheaply to workers."""

    cycle: str
    previous_cycle: str
    hierarchy: str
    is_annual: bool
    generated_from: str
    indicator_values: pd.DataFrame
    """Every unit's, or those of the units `load_cycle` was asked for."""
    previous_top_values: pd.DataFrame
    return_status: pd.DataFrame
    reporting_rates: pd.DataFrame
    quality_issues: pd.DataFrame | None
    """None when the warehouse has no `marts.fct_quality_issues` (checks not run yet)."""
    admin_units: pd.DataFrame
    indicators: pd.DataFrame


def _quality_checked(con: WarehouseConnection, cycle: Cycle) -> bool:
    """Whether the quality suites have run on the cycle (`cycle validate` logs each run)."""
    if not con.table_exists("quality", "validation_runs"):
        return False
    rows = con.query("select count(*) from quality.validation_runs where cycle = ?", [cycle.id])
    return bool(rows[0][0])


def check_marts(con: WarehouseConnection, wh: Warehouse, cycle: Cycle) -> bool:
    """Fail clearly when a mart the reports read is missing; return whether the cycle's quality
    findings can be read (its checks have run)."""
    absent = sorted(
        {
            mart
            for mart, _ in FILTERS.values()
            if mart != "fct_quality_issues" and not con.table_exists("marts", mart)
        }
    )
    if absent:
        raise MissingMarts(
            f"Kho dữ liệu {wh.describe()} thiếu bảng / lacks tables: "
            + ", ".join(f"marts.{m}" for m in absent)
            + f" (chạy / run `cycle transform {cycle.id}`)"
        )
    return _quality_checked(con, cycle) and con.table_exists("marts", "fct_quality_issues")


def load_cycle(
    warehouse: str | Warehouse, cycle: Cycle, *, unit_codes: Collection[str] | None = None
) -> CycleMarts:
    """Read every mart a cycle's reports need, once, read-only.

    `unit_codes` limits the indicator values to those units (as the warehouse spells their
    codes); every other mart is small and read whole."""
    wh = warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse)
    frames: dict[str, pd.DataFrame | None] = {}
    params = query_params(cycle)
    with wh.connect(read_only=True) as con:
        checked = check_marts(con, wh, cycle)
        for name, (_, sql) in QUERIES.items():
            if name == "quality_issues" and not checked:
                frames[name] = None
            elif name == "indicator_values" and unit_codes is not None:
                frames[name] = con.query_df(UNITS_VALUES_SQL, [cycle.id, sorted(unit_codes)])
            else:
                frames[name] = con.query_df(sql, params[name])
    issues = frames["quality_issues"]
    return CycleMarts(
        cycle=cycle.id,
        previous_cycle=cycle.previous_comparable.id,
        hierarchy=cycle.hierarchy,
        is_annual=cycle.is_annual,
        generated_from=wh.describe(),
        indicator_values=_typed("fct_indicator_values", frames["indicator_values"]),
        previous_top_values=_typed("fct_indicator_values", frames["previous_top_values"]),
        return_status=_typed("fct_return_status", frames["return_status"]),
        reporting_rates=_typed("fct_reporting_rates", frames["reporting_rates"]),
        quality_issues=None if issues is None else _typed("fct_quality_issues", issues),
        admin_units=_typed("dim_admin_units", frames["admin_units"]),
        indicators=_typed("dim_indicators", frames["indicators"]),
    )


def _typed(mart: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    """A mart's frame with each column read as MART_TYPES says."""
    assert frame is not None
    kinds = MART_TYPES[mart]

    def of(kind: ColumnKind) -> list[str]:
        return [column for column, k in kinds.items() if k == kind]

    out = _clean(frame, text=of("text"), numbers=of("number"), bools=of("bool"), dates=of("date"))
    for column in of("number_or_text"):
        out[column] = pd.Series(
            [_number_or_text(v) for v in frame[column].tolist()], index=frame.index, dtype=object
        )
    return out


# -- normalising what the two backends return (DuckDB: numpy dtypes; PostgreSQL: Decimal, date) --


def _clean(
    frame: pd.DataFrame,
    *,
    text: Iterable[str] = (),
    numbers: Iterable[str] = (),
    bools: Iterable[str] = (),
    dates: Iterable[str] = (),
) -> pd.DataFrame:
    """Columns as plain Python values with None for missing, whatever the backend gave."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        out[column] = frame[column]
    for column in text:
        # Codes and names repeat: clean each distinct value once, then spread the results.
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        cleaned = np.array([*map(clean_text, uniques.tolist()), None], dtype=object)
        out[column] = pd.Series(cleaned[codes], index=frame.index, dtype=object)
    for column in numbers:
        numeric = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        out[column] = numeric.astype(object).where(numeric.notna(), None)
    for column in bools:
        out[column] = pd.Series(
            [bool(v) if _number(v) is not None else False for v in frame[column].tolist()],
            index=frame.index,
            dtype=bool,
        )
    for column in dates:
        out[column] = pd.Series(
            [_date(v) for v in frame[column].tolist()], index=frame.index, dtype=object
        )
    return out


def clean_text(value: Any) -> str | None:
    """A text value as the reports read it: stripped, with None for missing or blank."""
    if _missing(value):
        return None
    return str(value).strip() or None


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _number(value: Any) -> float | None:
    if _missing(value):
        return None
    if isinstance(value, bool):
        return float(value)
    return float(value)


def _date(value: Any) -> date | None:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(str(value)).date()


def _number_or_text(value: Any) -> float | str | None:
    if _missing(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            return text or None
    return float(value)


def _records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    columns = list(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        yield dict(zip(columns, row, strict=True))


def _int(value: float | None) -> int:
    return int(value) if value is not None else 0


def _rate(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole else None


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
    out.append(UnitRef("country", COUNTRY_CODE, COUNTRY_NAME_VI, COUNTRY_NAME_ASCII, None))
    return out


@dataclass(frozen=True)
class _Meta:
    code: str
    name_vi: str
    name_en: str
    unit: str
    factor: float
    numerator: str | None
    denominator: str | None
    better: str

    @property
    def is_count(self) -> bool:
        return self.denominator is None


_VALUE_KEYS = MART_COLUMNS["fct_indicator_values"][5:]
"""The figures of an indicator value (after its cycle, hierarchy and unit keys)."""


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
                factor=r["factor"] or 1.0,
                numerator=r["numerator"],
                denominator=r["denominator"],
                better=r["better"] or "higher",
            )
            for r in _records(marts.indicators)
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
        for r in _records(marts.admin_units):
            self.units[(r["unit_level"], r["unit_code"])] = r
            self.name_by_code[r["unit_code"]] = r["name_vi"] or r["unit_code"]
            if r["unit_level"] == "commune":
                if r["district_code"]:
                    self.communes_of[("district", r["district_code"])].append(r["unit_code"])
                self.communes_of[("province", r["province_code"])].append(r["unit_code"])
            elif r["unit_level"] == "district":
                self.districts_of[r["province_code"]].append(r["unit_code"])

        self.values = self._index_values(marts.indicator_values)
        if not any(level == "country" for level, _ in self.values):
            self.values[("country", COUNTRY_CODE)] = self._country_values(
                marts.indicator_values, marts.previous_top_values
            )

        self.rates: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        for r in _records(marts.reporting_rates):
            self.rates[(r["unit_level"], r["unit_code"])][r["reporter_kind"]] = r
        if not any(level == "country" for level, _ in self.rates):
            self.rates[("country", COUNTRY_CODE)] = self._country_rates()

        self.status = list(_records(marts.return_status))
        self.status_by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for r in self.status:
            if r["district_code"]:
                self.status_by[("district", r["district_code"])].append(r)
            if r["province_code"]:
                self.status_by[("province", r["province_code"])].append(r)
        self.commune_status = {
            r["reporter_code"]: r for r in self.status if r["reporter_kind"] == "commune"
        }

        self.issues: list[dict[str, Any]] = (
            [] if marts.quality_issues is None else list(_records(marts.quality_issues))
        )
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
            quality_checked=self.marts.quality_issues is not None,
            notes=notes,
            returns_expected=returns_expected,
        )

    def _unit_info(self, level: ReportLevel, code: str) -> UnitInfo:
        if level == "country":
            return UnitInfo(
                COUNTRY_CODE, "country", COUNTRY_NAME_VI, COUNTRY_NAME_ASCII, self.marts.hierarchy
            )
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
            v = values.get(indicator, {})
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
                    plan_id=v.get("plan_id"),
                    target_comparator=v.get("target_comparator"),
                    target_value=v.get("target_value"),
                    target_status=cast(TargetStatus, status),
                    previous_value=v.get("previous_value"),
                    finding_ids=tuple(
                        f.finding_id for f in findings if indicator in affects[f.finding_id]
                    ),
                )
            )
        return rows

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
                reporter_name_vi=self._reporter_name(r),
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

    def _reporter_name(self, r: dict[str, Any]) -> str:
        code: str = r["reporter_code"]
        if r["reporter_kind"] != "agency":
            return self.name_by_code.get(code, code)
        unit_code, _, agency = code.partition("-")
        level = hierarchy_version(self.marts.hierarchy).agency_level
        row = self.units.get((level, unit_code))
        if row is None:
            return code
        unit = AdminUnit(
            hierarchy=cast(Any, self.marts.hierarchy),
            level=cast(Any, level),
            code=unit_code,
            name_vi=row["name_vi"] or unit_code,
            name_ascii=row["name_ascii"] or "",
            unit_type_vi="",
            area_type=None,
            district_code=row["district_code"],
            province_code=row["province_code"] or "",
            parent_code=None,
        )
        try:
            return agency_name_vi(agency, unit)
        except KeyError:
            return code

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
                expected=r["expected_value"],
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
            present = {c for lv, c in self.values if lv == "district"} | {
                c for lv, c in self.rates if lv == "district"
            }
            return "district", sorted(d for d in self.districts_of.get(code, []) if d in present)
        in_force = self.communes_of.get((level, code), [])
        expected = {
            r["reporter_code"]
            for r in self.status_by.get((level, code), [])
            if r["reporter_kind"] == "commune"
        }
        present = {c for lv, c in self.values if lv == "commune"}
        return "commune", sorted(c for c in in_force if c in expected or c in present)

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
                v = values.get(indicator, {})
                fids = tuple(fid for fid in part_findings if indicator in affects[fid])
                if part_level == "commune":
                    cells[indicator] = suppress.commune_cell(
                        v.get("numerator"),
                        v.get("value"),
                        sensitive=indicator in self.sensitive,
                        is_count=self.meta[indicator].is_count,
                        finding_ids=fids,
                    )
                else:
                    cells[indicator] = BreakdownCell(v.get("value"), None, fids)
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
        rows = []
        name = COUNTRY_NAME_VI if level == "country" else self.name_by_code.get(code, code)
        own = self.rates.get((level, code), {})
        for kind in ("commune", "agency", "all"):
            if kind in own:
                rows.append(_rate_row(own[kind], kind, level, code, name))
        if part_level != "commune":
            for part in parts:
                r = self.rates.get((part_level, part), {}).get("all")
                if r:
                    rows.append(
                        _rate_row(r, "all", part_level, part, self.name_by_code.get(part, part))
                    )
        return rows

    # -- indexes --------------------------------------------------------------------------------
    @staticmethod
    def _index_values(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
        out: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        columns = ["unit_level", "unit_code", "indicator_code", *_VALUE_KEYS]
        # Zipped column lists: a third faster than itertuples over a national cycle's rows.
        for row in zip(*(frame[column].tolist() for column in columns), strict=True):
            out[(row[0], row[1])][row[2]] = dict(zip(_VALUE_KEYS, row[3:], strict=True))
        return out

    def _country_values(
        self, current: pd.DataFrame, previous: pd.DataFrame
    ) -> dict[str, dict[str, Any]]:
        """The country from its provinces, like for like; the previous comparable cycle's value
        the same way from that cycle's provinces (whatever its hierarchy)."""
        now = _sum_provinces(current[current["unit_level"] == "province"])
        before = _sum_provinces(previous[previous["unit_level"] == "province"])
        country_prev = {
            r["indicator_code"]: r["value"]
            for r in _records(previous[previous["unit_level"] == "country"])
        }
        out: dict[str, dict[str, Any]] = {}
        for indicator, m in self.meta.items():
            num, den, inc, force = now.get(indicator, (None, None, None, None))
            prev_num, prev_den, _, _ = before.get(indicator, (None, None, None, None))
            value = _ratio(num, den, m)
            out[indicator] = {
                "numerator": num,
                "denominator": den,
                "value": value,
                "communes_included": inc,
                "communes_in_force": force,
                "plan_id": None,
                "target_comparator": None,
                "target_value": None,
                "target_status": "no_target",
                "previous_value": country_prev.get(indicator, _ratio(prev_num, prev_den, m)),
            }
        return out

    def _country_rates(self) -> dict[str, dict[str, Any]]:
        totals: dict[str, list[float]] = {}
        for (level, _), kinds in list(self.rates.items()):
            if level != "province":
                continue
            for kind, r in kinds.items():
                t = totals.setdefault(kind, [0.0, 0.0, 0.0])
                t[0] += r["expected_returns"] or 0
                t[1] += r["received_returns"] or 0
                t[2] += r["on_time_returns"] or 0
        return {
            kind: {
                "expected_returns": e,
                "received_returns": rc,
                "on_time_returns": ot,
                "reporting_rate": _rate(rc, e),
                "timeliness_rate": _rate(ot, e),
            }
            for kind, (e, rc, ot) in totals.items()
        }


def _opt_int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _ratio(num: float | None, den: float | None, m: _Meta) -> float | None:
    if num is None:
        return None
    if m.is_count:
        return num * m.factor
    if not den:
        return None
    return num / den * m.factor


def _sum_provinces(frame: pd.DataFrame) -> dict[str, tuple[float | None, ...]]:
    sums: dict[str, list[float | None]] = {}
    for r in _records(frame):
        s = sums.setdefault(r["indicator_code"], [None, None, None, None])
        for i, key in enumerate(
            ("numerator", "denominator", "communes_included", "communes_in_force")
        ):
            if r[key] is not None:
                s[i] = (s[i] or 0.0) + r[key]
    return {k: tuple(v) for k, v in sums.items()}


def _rate_row(r: dict[str, Any], kind: str, level: str, code: str, name: str) -> ReportingRateRow:
    return ReportingRateRow(
        unit_code=code,
        unit_level=cast(UnitLevel, level),
        name_vi=name,
        reporter_kind=kind,
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
