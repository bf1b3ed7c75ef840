"""A world with one planted problem per rule (and the findings it must give), and settings
over a tmp folder: shared by the quality-check tests (a module of its own, not conftest, so that
test folders cannot shadow each other's helpers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa_tables import World

from core.settings import Settings

FindingId = tuple[str, str | None, str | None, str | None, str | None]
"""(rule_id, reporter_code, unit_code, element_code, indicator_code)."""


def make_settings(root: Path, warehouse: str | None = None) -> Settings:
    return Settings(
        inbox=root / "inbox",
        warehouse=warehouse or str(root / "warehouse.duckdb"),
        reports=root / "reports",
        archive=root / "archive",
        contacts=root / "contacts.csv",
    )


@dataclass
class Planted:
    world: World
    expected: set[FindingId]


def planted_world(cycle: str = "2024-Y") -> Planted:
    """One problem per commune (Như Xuân's 16 communes), each firing exactly one rule (or two
    for a spike), plus a missing agency return; the rest is clean, some of it at the bounds."""
    world = World.clean(cycle)
    c = world.communes
    health, police = "402-health", "402-police"
    expected: set[FindingId] = set()

    world.missing |= {c[0], "402-education"}
    expected |= {
        ("completeness.missing_return", c[0], c[0], None, None),
        ("completeness.missing_return", "402-education", "402", None, None),
    }

    world.set(c[1], "child_labour_5_17", None)  # CT10's numerator: a missing part is no finding
    expected.add(("completeness.missing_element", c[1], c[1], "child_labour_5_17", None))

    world.late.add(c[2])
    expected.add(("timeliness.late_return", c[2], c[2], None, None))

    world.set(c[3], "pop_children", 3000, history=[1164, 1212, 1188, 1200])  # x2.5
    expected |= {
        ("over_time.modified_z", c[3], c[3], "pop_children", None),
        ("over_time.ratio_to_mean3", c[3], c[3], "pop_children", None),
    }

    # +41% on a noisy history: outside ±33%, but |modified z| = 2.0; a history carried
    # across a reform (its finding says so)
    world.set(c[4], "children_consulted", 480, history=[180, 300, 420, 300], carried=True)
    expected.add(("over_time.ratio_to_mean3", c[4], c[4], "children_consulted", None))

    world.set(c[5], "u1_fully_vaccinated", 95)  # > u1_total 88; CT05a = 108% is not reported twice
    expected.add(
        ("consistency.numerator_le_denominator", health, c[5], "u1_fully_vaccinated", "CT05a")
    )

    world.indicator_overrides[(c[6], "CT23")] = 250.0  # a wrong factor, say: parts are fine
    world.indicator_overrides[(c[6], "CT03b")] = 1200.0
    expected |= {
        ("range.indicator_possible_range", c[6], c[6], "children_aware", "CT23"),
        ("range.indicator_possible_range", health, c[6], "deaths_under1", "CT03b"),
    }

    world.set(c[7], "deaths_neonatal", 5)  # > deaths_under1 2
    expected.add(("consistency.deaths_chain", health, c[7], "deaths_neonatal", None))

    # > pop_under8 640, and far from its history: the over-time warnings are suppressed
    world.set(c[8], "pop_age5", 700, history=[78, 81, 79, 80])
    expected.add(("consistency.population_chain", c[8], c[8], "pop_age5", None))

    world.set(c[9], "injury_deaths", 15)  # > injuries 12
    expected.add(("consistency.injury_deaths_le_injuries", c[9], c[9], "injury_deaths", None))

    world.set(c[10], "special_supported", 45)  # > special_circumstances 40: CT08b's parts
    expected.add(
        ("consistency.numerator_le_denominator", c[10], c[10], "special_supported", "CT08b")
    )

    world.set(c[11], "u5_weighed", 430)  # > 1.05 x pop_under5 400 = 420
    expected.add(("cross_source.u5_weighed_vs_pop_under5", health, c[11], "u5_weighed", None))

    world.set(c[12], "abused_cases_police", 4)  # > abused 2
    expected.add(("cross_source.abused_vs_police", police, c[12], "abused_cases_police", None))

    world.set(c[13], "deaths_under1", 4)  # > deaths_under5 3 (and >= deaths_neonatal 1)
    expected.add(("consistency.deaths_chain", health, c[13], "deaths_under1", None))

    # at the bounds, silent: 420 = 1.05 x 400; numerator = denominator; a jump with only two
    # earlier cycles; a jump on a small count (mean3 < 10, |z| < 3.5)
    world.set(c[14], "u5_weighed", 420)
    world.set(c[14], "u1_fully_vaccinated", 88)
    world.set(c[14], "pop_5_17", 3000, history=[1000, 1000])
    world.set(c[14], "abused", 5, history=[2, 2, 2, 2])
    return Planted(world, expected)
