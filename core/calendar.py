"""Reporting deadlines: the plans' own (`reporting_calendar.csv`), else a default.

A calendar row with reporter_level `commune_and_agency` sets the deadline for the communes and
agencies of its plan's district, for cycles of its kind, from the plan's year on (until a later
plan of the same district). Districts exist only before the July 2025 reform, so later cycles use
the default. dbt applies the same rule in SQL (`dbt_project`); tests compare the two.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from core.cycles import Cycle, CycleKind
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


GRACE_DAYS = 60
"""Days after a cycle's latest deadline during which late returns are still processed without
anyone triggering a run (`CYCLE_GRACE_DAYS` overrides it)."""
GRACE_DAYS_ENV = "CYCLE_GRACE_DAYS"


def grace_days_from_env() -> int:
    """`CYCLE_GRACE_DAYS`, else the default; a value that is not a whole number of days is an
    error naming the variable."""
    text = os.environ.get(GRACE_DAYS_ENV, "").strip()
    if not text:
        return GRACE_DAYS
    if not text.isdigit():
        raise ValueError(f"{GRACE_DAYS_ENV}={text!r} is not a whole number of days (e.g. 60)")
    return int(text)


def latest_deadline(cycle: Cycle) -> date:
    """The last day any return of `cycle` is due: the default or a plan's, whichever is later."""
    districts = {rule.district_code for rule in calendar_rules()}
    return max([deadline(cycle, None), *(deadline(cycle, d) for d in districts)])


def reporting_window(cycle: Cycle, grace_days: int = GRACE_DAYS) -> tuple[date, date]:
    """First and last day on which a cycle's returns are awaited: from the cycle's first day
    (1 January: returns cannot come earlier) to its latest deadline plus the grace days."""
    return date(cycle.year, 1, 1), latest_deadline(cycle) + timedelta(days=grace_days)


def open_cycles(day: date, grace_days: int = GRACE_DAYS) -> list[Cycle]:
    """The cycles whose reporting window contains `day`, oldest first."""
    years = range(day.year - 1 - grace_days // 365, day.year + 1)
    kinds: tuple[CycleKind, ...] = ("H1", "Y")
    candidates = [Cycle(year, kind) for year in years for kind in kinds]
    return [c for c in sorted(candidates) if _within(day, reporting_window(c, grace_days))]


def _within(day: date, window: tuple[date, date]) -> bool:
    return window[0] <= day <= window[1]
