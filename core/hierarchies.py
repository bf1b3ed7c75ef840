"""The versions of the administrative hierarchy, as data: seed `hierarchies.csv`.

Each version has its validity, its levels and the level whose agencies report and whose
offices receive the alerts. A cycle uses the version in force on its last day. SQL reads the
same seed (`int_cycles_dated`); nothing else names a version.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds"

UnitLevel = Literal["province", "district", "commune"]


def read_seed(name: str) -> list[dict[str, str]]:
    """The rows of a seed CSV file of `SEEDS_DIR`."""
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class HierarchyVersion:
    id: str
    valid_from: date
    valid_to: date | None
    levels: tuple[UnitLevel, ...]
    """From the top down: ('province', 'district', 'commune')."""
    agency_level: UnitLevel
    """The level right above communes: its agencies report, its offices receive alerts."""
    label_vi: str
    label_en: str

    @property
    def has_districts(self) -> bool:
        return "district" in self.levels

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@cache
def hierarchy_versions() -> tuple[HierarchyVersion, ...]:
    """Every version, oldest first."""
    versions = [
        HierarchyVersion(
            id=r["hierarchy"],
            valid_from=date.fromisoformat(r["valid_from"]),
            valid_to=date.fromisoformat(r["valid_to"]) if r["valid_to"] else None,
            levels=tuple(r["levels"].split()),  # type: ignore[arg-type]
            agency_level=r["agency_level"],  # type: ignore[arg-type]
            label_vi=r["label_vi"],
            label_en=r["label_en"],
        )
        for r in read_seed("hierarchies.csv")
    ]
    return tuple(sorted(versions, key=lambda v: v.valid_from))


def hierarchy_version(hierarchy: str) -> HierarchyVersion:
    """A version by its id; ValueError for an unknown one."""
    for version in hierarchy_versions():
        if version.id == hierarchy:
            return version
    raise ValueError(f"{hierarchy!r} is no hierarchy of seed hierarchies.csv")


def hierarchy_on(day: date) -> HierarchyVersion:
    """The version in force on a day; ValueError before the first one."""
    for version in hierarchy_versions():
        if version.in_force(day):
            return version
    raise ValueError(f"no administrative hierarchy is known on {day.isoformat()}")
