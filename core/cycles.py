"""Reporting cycles: `2024-H1` (1 January to 30 June) and `2024-Y` (the calendar year)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

REFORM_DATE = date(2025, 7, 1)
"""From this day Vietnam has no district level: later cycles roll up commune -> province."""

FIRST_YEAR = 2011
"""The first year a cycle can have: the legacy hierarchy (the seeds) is in force from
2011-01-01 (`scripts/build_admin_units.py`); an earlier cycle would have no commune to count."""

_CYCLE_ID = re.compile(r"^(?P<year>20\d\d)-(?P<kind>H1|Y)$")

Hierarchy = Literal["pre_reform", "post_reform"]
CycleKind = Literal["H1", "Y"]


@dataclass(frozen=True, order=True)
class Cycle:
    year: int
    kind: CycleKind

    @classmethod
    def parse(cls, text: str) -> Cycle:
        """Read a cycle id; raise ValueError naming the accepted forms otherwise."""
        match = _CYCLE_ID.match(str(text).strip().upper())
        if not match:
            raise ValueError(
                f"'{text}' is not a cycle id: use YYYY-H1 (half-year) or YYYY-Y (annual), "
                "e.g. 2024-H1"
            )
        if int(match["year"]) < FIRST_YEAR:
            raise ValueError(
                f"'{text}' is before {FIRST_YEAR}: the warehouse's administrative units are "
                f"known from {FIRST_YEAR}-01-01 on (the 2011-2020 programme); use a later cycle"
            )
        kind: CycleKind = "H1" if match["kind"] == "H1" else "Y"
        return cls(int(match["year"]), kind)

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
    def hierarchy(self) -> Hierarchy:
        """The administrative hierarchy in force on the cycle's last day."""
        return "pre_reform" if self.last_day < REFORM_DATE else "post_reform"

    @property
    def has_districts(self) -> bool:
        return self.hierarchy == "pre_reform"

    @property
    def previous_comparable(self) -> Cycle:
        """The same kind of cycle one year earlier (2024-H1 -> 2023-H1)."""
        return Cycle(self.year - 1, self.kind)

    def __str__(self) -> str:
        return self.id
