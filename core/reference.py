"""The reference data every step shares: data elements, indicators and the hierarchies.

The files are the dbt seeds in `dbt_project/seeds/`; dbt loads them into the warehouse and the
Python steps read the same files, so there is one copy of each lookup.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from core.cycles import Hierarchy
from core.hierarchies import (
    PROJECT_ROOT,
    SEEDS_DIR,
    UnitLevel,
    hierarchy_version,
    hierarchy_versions,
    read_seed,
)

__all__ = ["PROJECT_ROOT", "SEEDS_DIR", "UnitLevel"]

AGENCIES: tuple[str, ...] = ("health", "education", "police")
"""Agencies that send returns: those of each unit at the hierarchy's agency level."""

SENSITIVE_ELEMENTS: frozenset[str] = frozenset(
    r["element_code"] for r in read_seed("data_elements.csv") if r["is_sensitive"] == "true"
)
"""Small counts published as '<5' at commune level (seed data_elements, column is_sensitive)."""

ReporterKind = Literal["commune", "agency"]

_AGENCY_CODE = re.compile(r"^\s*(?P<unit>\d{1,3})\s*-\s*(?P<agency>[A-Za-z]+)\s*$")


@dataclass(frozen=True)
class DataElement:
    code: str
    reported_by: str
    kind: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Indicator:
    code: str
    goal: int
    lead_agency: str
    numerator: str
    denominator: str | None
    factor: int
    unit: str
    better: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class AdminUnit:
    hierarchy: Hierarchy
    level: UnitLevel
    code: str
    name_vi: str
    name_ascii: str
    unit_type_vi: str
    area_type: str | None
    district_code: str | None
    province_code: str
    parent_code: str | None


@dataclass(frozen=True)
class Reporter:
    """Who sent a return: a commune, or an agency of a district (a province after the reform)."""

    code: str
    kind: ReporterKind
    unit: AdminUnit
    agency: str | None
    name_vi: str
    communes: frozenset[str] = field(repr=False)

    @property
    def role(self) -> str:
        """The role whose elements this reporter sends (`commune`, `health`, ...)."""
        return self.agency or "commune"


class Reference:
    """Lookups read once per process."""

    def __init__(self) -> None:
        self.elements: dict[str, DataElement] = {
            r["element_code"]: DataElement(
                r["element_code"], r["reported_by"], r["kind"], r["name_vi"], r["name_en"]
            )
            for r in read_seed("data_elements.csv")
        }
        self.indicators: dict[str, Indicator] = {
            r["indicator_code"]: Indicator(
                code=r["indicator_code"],
                goal=int(r["goal"]),
                lead_agency=r["lead_agency"],
                numerator=r["numerator"],
                denominator=r["denominator"] or None,
                factor=int(r["factor"]),
                unit=r["unit"],
                better=r["better"],
                name_vi=r["name_vi"],
                name_en=r["name_en"],
            )
            for r in read_seed("indicators.csv")
        }
        self.elements_by_role: dict[str, list[str]] = defaultdict(list)
        for element in self.elements.values():
            self.elements_by_role[element.reported_by].append(element.code)

        self.units: dict[tuple[Hierarchy, UnitLevel, str], AdminUnit] = {}
        self._children: dict[tuple[Hierarchy, str, str], list[str]] = defaultdict(list)
        for r in read_seed("admin_units.csv"):
            hierarchy = r["hierarchy"]
            level: UnitLevel = r["unit_level"]  # type: ignore[assignment]
            unit = AdminUnit(
                hierarchy=hierarchy,
                level=level,
                code=r["unit_code"],
                name_vi=r["name_vi"],
                name_ascii=r["name_ascii"],
                unit_type_vi=r["unit_type_vi"],
                area_type=r["area_type"] or None,
                district_code=r["district_code"] or None,
                province_code=r["province_code"],
                parent_code=r["parent_code"] or None,
            )
            self.units[(hierarchy, level, unit.code)] = unit
            if level == "commune":
                self._children[(hierarchy, "province", unit.province_code)].append(unit.code)
                if unit.district_code:
                    self._children[(hierarchy, "district", unit.district_code)].append(unit.code)

    # -- hierarchy ---------------------------------------------------------------------------
    def unit(self, hierarchy: Hierarchy, level: UnitLevel, code: str) -> AdminUnit | None:
        return self.units.get((hierarchy, level, code))

    def commune(self, hierarchy: Hierarchy, code: str) -> AdminUnit | None:
        return self.units.get((hierarchy, "commune", code))

    def communes_of(self, hierarchy: Hierarchy, level: UnitLevel, code: str) -> list[str]:
        """Codes of the communes inside a district or province, in code order."""
        if level == "commune":
            return [code] if self.commune(hierarchy, code) else []
        return self._children.get((hierarchy, level, code), [])

    def units_at(self, hierarchy: Hierarchy, level: UnitLevel) -> list[AdminUnit]:
        return [u for (h, lv, _), u in self.units.items() if h == hierarchy and lv == level]

    def successor_provinces(self, hierarchy: Hierarchy, province_code: str) -> frozenset[str]:
        """The provinces of the next hierarchy version holding the successors of a province's
        communes (seed commune_successions): where its figures are carried across a reform.
        Empty for a version with no successor."""
        return self._successor_provinces().get((hierarchy, province_code), frozenset())

    @cache  # noqa: B019 (one Reference per process)
    def _successor_provinces(self) -> dict[tuple[Hierarchy, str], frozenset[str]]:
        versions = hierarchy_versions()
        previous = {after.id: before.id for before, after in itertools.pairwise(versions)}
        found: dict[tuple[Hierarchy, str], set[str]] = defaultdict(set)
        for row in read_seed("commune_successions.csv"):
            before = previous.get(row["hierarchy"])
            old = self.commune(before, row["old_commune_code"]) if before else None
            if before and old:
                found[(before, old.province_code)].add(row["new_province_code"])
        return {key: frozenset(codes) for key, codes in found.items()}

    def agency_level(self, hierarchy: Hierarchy) -> UnitLevel:
        """The level whose units have agencies (districts before the 2025 reform)."""
        return hierarchy_version(hierarchy).agency_level

    # -- reporters ---------------------------------------------------------------------------
    def reporter(self, code: object, hierarchy: Hierarchy) -> Reporter | None:
        """The reporter a code names in a hierarchy, or None if it names nobody there."""
        text = normalise_code(code)
        if not text:
            return None
        if text.isdigit():
            commune = self.commune(hierarchy, text.zfill(5))
            if commune is None:
                return None
            return Reporter(
                code=commune.code,
                kind="commune",
                unit=commune,
                agency=None,
                name_vi=commune.name_vi,
                communes=frozenset({commune.code}),
            )
        match = _AGENCY_CODE.match(text)
        if not match or match["agency"].lower() not in AGENCIES:
            return None
        level = self.agency_level(hierarchy)
        width = 3 if level == "district" else 2
        unit = self.unit(hierarchy, level, match["unit"].zfill(width))
        if unit is None:
            return None
        agency = match["agency"].lower()
        return Reporter(
            code=f"{unit.code}-{agency}",
            kind="agency",
            unit=unit,
            agency=agency,
            name_vi=agency_name_vi(agency, unit),
            communes=frozenset(self.communes_of(hierarchy, level, unit.code)),
        )

    def expected_reporters(self, hierarchy: Hierarchy, communes: list[str]) -> list[str]:
        """Codes of every reporter expected for a set of communes: each commune, and each agency
        of the districts (provinces after the reform) that hold them."""
        level = self.agency_level(hierarchy)
        parents: set[str] = set()
        for code in communes:
            unit = self.units[(hierarchy, "commune", code)]
            parent = unit.district_code if level == "district" else unit.province_code
            if parent:
                parents.add(parent)
        agencies = [f"{p}-{a}" for p in sorted(parents) for a in AGENCIES]
        return sorted(communes) + agencies


_AGENCY_NAMES_VI = {
    ("health", "district"): "Trung tâm Y tế",
    ("education", "district"): "Phòng Giáo dục và Đào tạo",
    ("police", "district"): "Công an",
    ("health", "province"): "Sở Y tế",
    ("education", "province"): "Sở Giáo dục và Đào tạo",
    ("police", "province"): "Công an",
}


def agency_name_vi(agency: str, unit: AdminUnit) -> str:
    """'Trung tâm Y tế huyện Như Xuân', 'Sở Y tế tỉnh Cao Bằng'."""
    unit_name = unit.name_vi[:1].lower() + unit.name_vi[1:]
    return f"{_AGENCY_NAMES_VI[(agency, unit.level)]} {unit_name}"


def normalise_code(value: object) -> str:
    """A code as text, whatever the cell held: 3390.0 -> '3390', ' 16204 ' -> '16204'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@cache
def reference() -> Reference:
    """The process-wide reference data (read from the seeds on first use)."""
    return Reference()
