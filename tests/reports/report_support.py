"""What the report tests share: the units, the planted figures and small helpers.

Province 58 (Ninh Thuận, 7 districts, 62 communes) before the reform, with planted figures in
district 584 (Huyện Bác Ái); province 12 (Lai Châu, 38 communes) after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from report_marts import Plant, PlantedIssue

from core.cycles import Cycle
from core.reference import reference
from core.settings import Settings
from reports.render import ReportSummary

CYCLE = Cycle.parse("2024-Y")
POST_CYCLE = Cycle.parse("2025-Y")
PROVINCE = "58"
DISTRICT = "584"
POST_PROVINCE = "12"
TREND_CYCLES = [Cycle.parse(c) for c in ("2022-Y", "2023-Y", "2024-Y", "2025-Y")]
TREND_PROVINCE = "82"
"""Đồng Tháp after the reform: the old provinces 82 (Tiền Giang) and 87 (Đồng Tháp), with
communes divided between several new ones."""


@dataclass(frozen=True)
class Planted:
    """The commune codes of district 584 that carry planted figures."""

    small_abused: str  # CT09 numerator 3 -> rate withheld "(<5)"
    zero_abused: str  # CT09 numerator 0 -> published 0
    many_abused: str  # CT09 numerator 7 -> published
    small_marriages: str  # CT13 count 2 -> "<5"
    complementary: str  # CT13 count 5, the smallest other -> "×"
    live_births_issue: str  # a finding on live_births -> CT03a/b/c marked
    communes: tuple[str, ...]


def planted_communes() -> Planted:
    c = reference().communes_of("pre_reform", "district", DISTRICT)
    return Planted(c[0], c[1], c[2], c[0], c[3], c[2], tuple(c))


def district_plants(planted: Planted) -> list[Plant]:
    plants = [
        Plant(planted.small_abused, "CT09", 3, 2500),
        Plant(planted.zero_abused, "CT09", 0, 2000),
        Plant(planted.many_abused, "CT09", 7, 3000),
    ]
    # CT13: one small count, the rest 5 or more, so exactly one commune is withheld first.
    for n, code in enumerate(planted.communes):
        count = (
            2
            if code == planted.small_marriages
            else (5 if code == planted.complementary else 6 + n)
        )
        plants.append(Plant(code, "CT13", count))
    # The district's CT03a is 19 / 2000 × 1000 = 9,5‰ (one commune reports both parts) and
    # CT02 1.234 / 1.296 = 95,2%.
    for code in planted.communes:
        first = code == planted.communes[0]
        plants.append(Plant(code, "CT03a", 19 if first else None, 2000 if first else None))
        plants.append(Plant(code, "CT02", 1234 if first else None, 1296 if first else None))
    return plants


def district_issues(planted: Planted) -> list[PlantedIssue]:
    return [
        PlantedIssue(
            "cross_source.abused_police",
            "warning",
            planted.small_abused,
            planted.small_abused,
            "abused",
            None,
            3,
            4,
            "Xã báo 3 trẻ bị xâm hại, công an báo 4.",
            "Commune reports 3 abused, police 4.",
        ),
        PlantedIssue(
            "over_time.ratio_to_mean",
            "warning",
            f"{DISTRICT}-health",
            planted.live_births_issue,
            "live_births",
            None,
            400,
            120,
            "Số trẻ đẻ sống 400 khác xa trung bình 3 kỳ trước (120).",
            "Live births 400, far from the mean of the previous three cycles (120).",
        ),
    ]


def settings_for(warehouse: Path, reports: Path) -> Settings:
    base = reports.parent
    return Settings(
        inbox=base / "inbox",
        warehouse=str(warehouse),
        reports=reports,
        archive=base / "archive",
        contacts=base / "contacts.csv",
    )


def report_path(summary: ReportSummary, level: str, code: str, suffix: str) -> Path:
    for r in summary.reports:
        if r.level == level and r.code == code:
            return r.xlsx if suffix == "xlsx" else r.html
    raise AssertionError(f"no {level} {code} report in {summary.directory}")
