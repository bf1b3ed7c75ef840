"""Check-ready tables for tests, built the way expectations/README.md tells dbt to build them.

A `World` holds one cycle's figures for the communes of Như Xuân (district 402, Thanh Hóa) and
which returns arrived; `World.tables()` derives the four check-ready tables from it, so a planted
problem (a changed figure, a missing return) shows in every table the way it would in dbt's.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from core.cycles import Cycle
from core.reference import AGENCIES, agency_name_vi, reference
from core.warehouse import Warehouse
from expectations.suites import SQL_TYPES, Suite, load_suites

DISTRICT = "402"
PROVINCE = "38"

BASE: dict[str, float] = {
    # commune
    "pop_children": 1200,
    "pop_under5": 400,
    "pop_under8": 640,
    "pop_age5": 80,
    "pop_5_17": 1000,
    "pop_7_15": 700,
    "pop_11_15": 380,
    "child_friendly_commune": 1,
    "play_space": 1,
    "u8_ecd_services": 600,
    "special_circumstances": 40,
    "special_supported": 36,
    "abused": 2,
    "child_labour_5_17": 5,
    "injuries": 12,
    "injury_deaths": 1,
    "emergency_needing": 10,
    "emergency_supported": 9,
    "child_marriages": 1,
    "u5_birth_registered": 395,
    "children_consulted": 300,
    "children_aware": 500,
    "children_participating": 150,
    # health
    "live_births": 90,
    "deaths_neonatal": 1,
    "deaths_under1": 2,
    "deaths_under5": 3,
    "u5_weighed": 390,
    "u5_underweight": 40,
    "u5_measured": 385,
    "u5_stunted": 70,
    "u5_overweight": 15,
    "u1_total": 88,
    "u1_fully_vaccinated": 85,
    "u5_fully_vaccinated": 380,
    "hiv_exposed_infants": 2,
    "hiv_infants_positive": 0,
    # education
    "schools_total": 6,
    "schools_with_toilets": 6,
    "schools_psych_support": 3,
    "schools_disability_ready": 2,
    "u5_assessed": 350,
    "u5_developing_well": 320,
    "age5_in_preschool": 78,
    "primary_cohort": 70,
    "primary_completed": 69,
    "primary_enrolled": 380,
    "primary_dropouts": 1,
    "lowersec_cohort": 60,
    "lowersec_completed": 57,
    "lowersec_enrolled": 300,
    "lowersec_dropouts": 2,
    "disabled_learning_needs": 8,
    "disabled_in_education": 7,
    # police
    "abused_cases_police": 1,
}
"""Clean figures of one commune: every consistency rule holds."""


def steady(value: float) -> list[float]:
    """Four earlier comparable values close to `value` (oldest first)."""
    return [round(value * f) for f in (0.97, 1.01, 0.99, 1.0)]


@dataclass
class Figure:
    value: float | None
    history: list[float] | None = None
    """Earlier comparable values, oldest first; None: a steady history around `value`."""
    carried: bool = False
    """The history holds a predecessor's figures carried across a reform."""

    def earlier(self) -> list[float]:
        if self.history is not None:
            return self.history
        return steady(self.value) if self.value is not None else []


def history_stats(value: float | None, earlier: list[float]) -> dict[str, float | None]:
    """The over-time measures as the README defines them."""
    stats: dict[str, float | None] = {
        "history_cycles": len(earlier),
        "history_median": None,
        "modified_z": None,
        "mean3": None,
        "ratio_to_mean3": None,
    }
    if earlier:
        median = statistics.median(earlier)
        mad = statistics.median(abs(v - median) for v in earlier)
        stats["history_median"] = median
        if value is not None:
            stats["modified_z"] = 0.6745 * (value - median) / max(mad, 0.10 * abs(median), 1)
    if len(earlier) >= 3:
        mean3 = statistics.fmean(earlier[-3:])
        stats["mean3"] = mean3
        if value is not None and mean3 != 0:
            stats["ratio_to_mean3"] = value / mean3
    return stats


@dataclass
class World:
    """One cycle of one district: figures per (commune, element), returns received and late."""

    cycle: Cycle
    communes: list[str]
    figures: dict[tuple[str, str], Figure] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    late: set[str] = field(default_factory=set)
    indicator_overrides: dict[tuple[str, str], float] = field(default_factory=dict)
    """(commune, indicator) -> value written instead of numerator/denominator x factor."""

    @classmethod
    def clean(cls, cycle: str = "2024-Y", communes: int = 16) -> World:
        codes = reference().communes_of("pre_reform", "district", DISTRICT)[:communes]
        world = cls(Cycle.parse(cycle), codes)
        for code in codes:
            for element, value in BASE.items():
                world.figures[(code, element)] = Figure(value)
        return world

    def set(
        self,
        commune: str,
        element: str,
        value: float | None,
        history: list[float] | None = None,
        carried: bool = False,
    ) -> None:
        self.figures[(commune, element)] = Figure(value, history, carried)

    # -- who reports what ----------------------------------------------------------------------
    def reporter_of(self, commune: str, element: str) -> str:
        role = reference().elements[element].reported_by
        return commune if role == "commune" else f"{DISTRICT}-{role}"

    def reported(self, commune: str, element: str) -> float | None:
        if self.reporter_of(commune, element) in self.missing:
            return None
        return self.figures[(commune, element)].value

    def reporters(self) -> list[str]:
        return [*self.communes, *(f"{DISTRICT}-{a}" for a in AGENCIES)]

    # -- the check-ready tables ------------------------------------------------------------------
    def _place(self, commune: str) -> dict[str, object]:
        unit = reference().commune("pre_reform", commune)
        assert unit is not None
        return {
            "cycle": self.cycle.id,
            "hierarchy": self.cycle.hierarchy,
            "unit_code": commune,
            "unit_level": "commune",
            "unit_name": unit.name_vi,
            "district_code": DISTRICT,
            "province_code": PROVINCE,
        }

    def expected_returns(self) -> pd.DataFrame:
        ref = reference()
        district = ref.unit("pre_reform", "district", DISTRICT)
        assert district is not None
        due = date(self.cycle.year, 12 if self.cycle.is_annual else 6, 10)
        rows = []
        for code in self.reporters():
            if "-" in code:
                role = code.split("-")[1]
                place = {
                    "cycle": self.cycle.id,
                    "hierarchy": self.cycle.hierarchy,
                    "unit_code": DISTRICT,
                    "unit_level": "district",
                    "unit_name": district.name_vi,
                    "district_code": DISTRICT,
                    "province_code": PROVINCE,
                }
                name = agency_name_vi(role, district)
            else:
                role, place = "commune", self._place(code)
                name = str(place["unit_name"])
            received = code not in self.missing
            submitted = (
                (
                    date(due.year, due.month, 20)
                    if code in self.late
                    else date(due.year, due.month, 1)
                )
                if received
                else None
            )
            rows.append(
                {
                    **place,
                    "reporter_code": code,
                    "reporter_role": role,
                    "reporter_name": name,
                    "is_received": received,
                    "due_date": due,
                    "submitted_on": submitted,
                    "is_on_time": (submitted <= due) if submitted else None,
                }
            )
        return pd.DataFrame(rows)

    def element_checks(self) -> pd.DataFrame:
        ref = reference()
        rows = []
        for code in self.reporters():
            if code in self.missing:
                continue
            role = code.split("-")[1] if "-" in code else "commune"
            name = (
                agency_name_vi(role, ref.unit("pre_reform", "district", DISTRICT))  # type: ignore[arg-type]
                if "-" in code
                else self._place(code)["unit_name"]
            )
            for commune in self.communes if "-" in code else [code]:
                for element in ref.elements_by_role[role]:
                    figure = self.figures[(commune, element)]
                    meta = ref.elements[element]
                    rows.append(
                        {
                            **self._place(commune),
                            "reporter_code": code,
                            "reporter_role": role,
                            "reporter_name": name,
                            "element_code": element,
                            "element_kind": meta.kind,
                            "element_name_vi": meta.name_vi,
                            "element_name_en": meta.name_en,
                            "value": figure.value,
                            **history_stats(figure.value, figure.earlier()),
                            "history_is_carried": figure.carried,
                        }
                    )
        return pd.DataFrame(rows)

    def indicator_checks(self) -> pd.DataFrame:
        ref = reference()
        rows = []
        for commune in self.communes:
            for indicator in ref.indicators.values():
                if not indicator.denominator or indicator.denominator.startswith("@"):
                    continue
                num_el, den_el = indicator.numerator, indicator.denominator
                numerator = self.reported(commune, num_el)
                denominator = self.reported(commune, den_el)
                value = (
                    numerator / denominator * indicator.factor
                    if numerator is not None and denominator
                    else None
                )
                value = self.indicator_overrides.get((commune, indicator.code), value)
                rows.append(
                    {
                        **self._place(commune),
                        "indicator_code": indicator.code,
                        "indicator_name_vi": indicator.name_vi,
                        "indicator_name_en": indicator.name_en,
                        "indicator_unit": indicator.unit,
                        "factor": float(indicator.factor),
                        "numerator_element": num_el,
                        "numerator_name_vi": ref.elements[num_el].name_vi,
                        "numerator_name_en": ref.elements[num_el].name_en,
                        "denominator_element": den_el,
                        "denominator_name_vi": ref.elements[den_el].name_vi,
                        "denominator_name_en": ref.elements[den_el].name_en,
                        "reporter_code": self.reporter_of(commune, num_el),
                        "numerator_reporter_code": self.reporter_of(commune, num_el),
                        "denominator_reporter_code": self.reporter_of(commune, den_el),
                        "numerator": numerator,
                        "denominator": denominator,
                        "value": value,
                    }
                )
        return pd.DataFrame(rows)

    def commune_checks(self) -> pd.DataFrame:
        rows = []
        for commune in self.communes:
            row: dict[str, object] = {
                **self._place(commune),
                "commune_reporter_code": commune,
                **{f"{a}_reporter_code": f"{DISTRICT}-{a}" for a in AGENCIES},
            }
            for element in BASE:
                row[element] = self.reported(commune, element)
            weighed, under5 = row["u5_weighed"], row["pop_under5"]
            row["u5_weighed_per_pop_under5"] = (
                weighed / max(under5, 1)  # type: ignore[operator,call-overload]
                if weighed is not None and under5 is not None
                else None
            )
            rows.append(row)
        return pd.DataFrame(rows)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "intermediate.int_returns_checked": self.expected_returns(),
            "intermediate.int_element_values_checked": self.element_checks(),
            "intermediate.int_indicator_values_checked": self.indicator_checks(),
            "intermediate.int_communes_checked": self.commune_checks(),
        }


def write_tables(
    url: str,
    worlds: list[World],
    suites: list[Suite] | None = None,
    drop_columns: dict[str, str] | None = None,
) -> None:
    """(Re)create the check-ready tables in a warehouse with the suites' declared columns and
    types, holding the rows of every world (cycle)."""
    suites = suites or load_suites()
    drop_columns = drop_columns or {}
    parts: dict[str, list[pd.DataFrame]] = {}
    for world in worlds:
        for table, frame in world.tables().items():
            parts.setdefault(table, []).append(frame)
    with Warehouse(url).connect() as con:
        for suite in suites:
            columns = [c for c in suite.columns if drop_columns.get(suite.table) != c]
            ddl = ", ".join(f'"{c}" {SQL_TYPES[suite.columns[c]]}' for c in columns)
            con.execute(f"create schema if not exists {suite.schema}")
            con.execute(f"drop table if exists {suite.table}")
            con.execute(f"create table {suite.table} ({ddl})")
            frame = pd.concat(parts[suite.table], ignore_index=True).loc[:, columns]
            con.insert_df(suite.table, frame)


def finding_ids(frame: pd.DataFrame) -> set[tuple[object, ...]]:
    """(rule_id, reporter_code, unit_code, element_code, indicator_code) of each finding."""
    columns = ["rule_id", "reporter_code", "unit_code", "element_code", "indicator_code"]
    return {
        tuple(None if pd.isna(v) else v for v in row)
        for row in frame[columns].itertuples(index=False)
    }
