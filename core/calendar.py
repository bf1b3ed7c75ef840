"""Reporting deadlines: the plans' own (`reporting_calendar.csv`), else a default.

A calendar row with reporter_level `commune_and_agency` sets the deadline for the communes and
agencies of its plan's district, for cycles of its kind, from the plan's year on (until a later
plan of the same district). Districts exist only before the July 2025 reform, so later cycles use
the default. dbt applies the same rule in SQL (`dbt_project`); tests compare the two.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache

from core.cycles import Cycle
from core.reference import SEEDS_DIR

DEFAULT_DEADLINES = {"H1": (6, 15), "Y": (12, 15)}
"""Month and day of the default deadline: 15 June for H1, 15 December for the annual return."""


@dataclass(frozen=True)
class CalendarRule:
    plan_id: str
    district_code: str
    kind: str
    from_year: int
    month: int
    day: int


@cache
def calendar_rules() -> tuple[CalendarRule, ...]:
    rules = []
    with (SEEDS_DIR / "reporting_calendar.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["reporter_level"] != "commune_and_agency":
                continue
            month, day = (int(p) for p in row["due_date"].split("-"))
            rules.append(
                CalendarRule(
                    row["plan_id"],
                    row["unit_code"],
                    row["cycle"],
                    int(row["plan_id"].rsplit("-", 1)[1]),
                    month,
                    day,
                )
            )
    return tuple(sorted(rules, key=lambda r: r.from_year))


def deadline(cycle: Cycle, district_code: str | None) -> date:
    """The day a commune's or agency's return for `cycle` is due."""
    month, day = DEFAULT_DEADLINES[cycle.kind]
    if cycle.has_districts and district_code:
        for rule in calendar_rules():  # later plans override earlier ones
            if (
                rule.district_code == district_code
                and rule.kind == cycle.kind
                and rule.from_year <= cycle.year
            ):
                month, day = rule.month, rule.day
    return date(cycle.year, month, day)
