"""Reporting cycles: `2024-H1` (1 January to 30 June) and `2024-Y` (the calendar year)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from core.hierarchies import HierarchyVersion, hierarchy_on, hierarchy_versions

CYCLE_ID_PATTERN = r"^20[0-9]{2}-(H1|Y)$"
"""A cycle id; the DAG's param and the dbt macro `requested_cycles` use this one pattern."""

Hierarchy = str
"""A hierarchy version id (seed hierarchies.csv)."""
CycleKind = Literal["H1", "Y"]


@dataclass(frozen=True, order=True)
class Cycle:
    year: int
    kind: CycleKind

    @classmethod
    def parse(cls, text: str) -> Cycle:
        """Read a cycle id; raise ValueError naming the accepted forms otherwise."""
        cycle_id = str(text).strip().upper()
        if not re.match(CYCLE_ID_PATTERN, cycle_id):
            raise ValueError(
                f"'{text}' is not a cycle id: use YYYY-H1 (half-year) or YYYY-Y (annual), "
                "e.g. 2024-H1"
            )
        year, kind_text = cycle_id.split("-")
        # the first hierarchy's first day: an earlier cycle would have no commune to count
        first = hierarchy_versions()[0].valid_from
        if int(year) < first.year:
            raise ValueError(
                f"'{text}' is before {first.year}: the warehouse's administrative units are "
                f"known from {first.isoformat()} on; use a later cycle"
            )
        kind: CycleKind = "H1" if kind_text == "H1" else "Y"
        return cls(int(year), kind)

    @classmethod
    def containing(cls, day: date) -> Cycle:
        """The cycle a day's reporting belongs to: January-June -> H1, July-December -> Y."""
        return cls(day.year, "H1" if day.month <= 6 else "Y")

    @property
    def id(self) -> str:
        return f"{self.year}-{self.kind}"

    @property
    def last_day(self) -> date:
        return date(self.year, 6, 30) if self.kind == "H1" else date(self.year, 12, 31)

    @property
    def is_annual(self) -> bool:
        return self.kind == "Y"

    @property
    def version(self) -> HierarchyVersion:
        """The administrative hierarchy in force on the cycle's last day."""
        return hierarchy_on(self.last_day)

    @property
    def hierarchy(self) -> Hierarchy:
        return self.version.id

    @property
    def has_districts(self) -> bool:
        return self.version.has_districts

    @property
    def previous_comparable(self) -> Cycle:
        """The same kind of cycle one year earlier (2024-H1 -> 2023-H1)."""
        return Cycle(self.year - 1, self.kind)

    def __str__(self) -> str:
        return self.id
