"""Plausible figures for a commune: populations, services and outcomes near the plans' targets.

Every figure is a deterministic function of (seed, commune, element, cycle), so a generated inbox
is the same on every machine. Clean figures vary by at most ±5% around a slow trend and respect
every consistency rule of the domain README, so that the quality checks stay silent on them and
fire only on what the generator plants.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable

from core.cycles import Cycle


def uniform(seed: int, *key: object) -> float:
    """A number in [0, 1) determined by the seed and the key."""
    digest = hashlib.blake2b(repr((seed, *key)).encode(), digest_size=8).digest()
    number: int = struct.unpack("<Q", digest)[0]
    return number / 2**64


def between(low: float, high: float, seed: int, *key: object) -> float:
    return low + (high - low) * uniform(seed, *key)


class CommuneModel:
    """The latent size and rates of one pre-reform commune, from which its figures follow."""

    def __init__(self, seed: int, code: str, urban: bool) -> None:
        self.seed, self.code = seed, code
        low, high = (2500, 7000) if urban else (900, 4200)
        self.base_children = between(low, high, seed, code, "size")
        self.growth = between(-0.005, 0.015, seed, code, "growth")
        self.child_friendly = uniform(seed, code, "cf") < 0.75
        self.play_space = uniform(seed, code, "play") < (0.6 if urban else 0.35)
        self.schools = round(between(3, 9 if urban else 6, seed, code, "schools"))

    def rate(self, name: str, low: float, high: float) -> float:
        return between(low, high, self.seed, self.code, name)

    def children(self, year: int) -> float:
        return self.base_children * (1 + self.growth) ** (year - 2021)


def _noise(seed: int, unit: str, element: str, cycle: Cycle) -> float:
    return 1 + between(-0.05, 0.05, seed, unit, element, cycle.id)


def commune_figures(
    models: Iterable[CommuneModel], unit: str, cycle: Cycle, seed: int
) -> dict[str, dict[str, int]]:
    """Figures of one reporting unit, by role: {'commune': {...}, 'health': {...}, ...}.

    `models` are the pre-reform communes that make up the unit (one before the reform; a
    post-reform commune is the sum of its predecessors)."""
    models = list(models)
    half = cycle.kind == "H1"
    flow_share = 0.5 if half else 1.0
    year = cycle.year

    def total(fn: object) -> float:
        return sum(fn(m) for m in models)  # type: ignore[operator]

    def draw(element: str, expected: float) -> int:
        return max(0, round(expected * _noise(seed, unit, element, cycle)))

    def flow(element: str, expected_annual: float) -> int:
        return draw(element, expected_annual * flow_share)

    def each(fn: object) -> int:
        # a count drawn per pre-reform commune and summed: a post-reform commune's figure is
        # its predecessors' on the same scale (its history is theirs, carried across)
        return sum(fn(m.code) for m in models)  # type: ignore[operator]

    def offsets(name: str, key: object) -> float:
        # a small count's random part, one per pre-reform commune and summed likewise
        return sum(uniform(seed, m.code, name, key) for m in models)

    c: dict[str, int] = {}
    c["pop_children"] = draw("pop_children", total(lambda m: m.children(year)))
    kids = c["pop_children"]
    c["pop_under5"] = min(
        kids, draw("pop_under5", kids * total(lambda m: m.rate("u5", 0.28, 0.33)) / len(models))
    )
    c["pop_under8"] = min(kids, max(c["pop_under5"], draw("pop_under8", kids * 0.52)))
    c["pop_age5"] = min(c["pop_under8"], draw("pop_age5", c["pop_under5"] * 0.2))
    c["pop_5_17"] = draw("pop_5_17", kids * 0.82)
    c["pop_7_15"] = min(kids, draw("pop_7_15", kids * 0.55))
    c["pop_11_15"] = min(c["pop_7_15"], draw("pop_11_15", kids * 0.31))
    c["child_friendly_commune"] = int(any(m.child_friendly for m in models))
    c["play_space"] = int(any(m.play_space for m in models))
    c["u8_ecd_services"] = min(c["pop_under8"], draw("u8_ecd_services", c["pop_under8"] * 0.9))
    c["special_circumstances"] = draw("special_circumstances", kids * 0.055)
    c["special_supported"] = min(
        c["special_circumstances"], draw("special_supported", c["special_circumstances"] * 0.94)
    )
    c["abused"] = each(
        lambda code: round(between(0, 3, seed, code, "abused", cycle.id) * flow_share)
    )
    c["child_labour_5_17"] = min(c["pop_5_17"], draw("child_labour_5_17", c["pop_5_17"] * 0.035))
    c["injuries"] = flow("injuries", kids * 0.0055)
    c["injury_deaths"] = min(
        c["injuries"], each(lambda code: round(between(0, 1.4, seed, code, "injd", cycle.id)))
    )
    # a level of each commune's own, moving ±10% from cycle to cycle: summed over a new
    # commune's predecessors it passes the over-time rules' floor (mean3 >= 10) and must be as
    # steady as a real count of that size
    c["emergency_needing"] = each(
        lambda code: max(
            1,
            round(
                between(0.5, 8.5, seed, code, "emerg")
                * flow_share
                * (1 + between(-0.1, 0.1, seed, code, "emerg", cycle.id))
            ),
        )
    )
    c["emergency_supported"] = c["emergency_needing"] - (
        uniform(seed, unit, "emsup", cycle.id) < 0.1
    )
    decline = 0.97 ** (year - 2021)
    c["child_marriages"] = each(
        lambda code: round(between(1, 5, seed, code, "marr") * decline * flow_share)
    )
    c["u5_birth_registered"] = min(
        c["pop_under5"], draw("u5_birth_registered", c["pop_under5"] * 0.985)
    )
    c["children_consulted"] = min(
        c["pop_7_15"], draw("children_consulted", c["pop_7_15"] * 0.18 * flow_share)
    )
    c["children_aware"] = min(kids, draw("children_aware", kids * 0.72))
    c["children_participating"] = min(
        c["pop_11_15"], draw("children_participating", c["pop_11_15"] * 0.24 * flow_share)
    )

    h: dict[str, int] = {}
    h["live_births"] = flow("live_births", c["pop_under5"] / 5)
    h["deaths_under5"] = min(
        h["live_births"], round(h["live_births"] * 0.016 + offsets("d5", cycle.id))
    )
    h["deaths_under1"] = min(
        h["deaths_under5"],
        round(h["live_births"] * 0.011 + offsets("d1", cycle.id) * 0.8),
    )
    h["deaths_neonatal"] = min(
        h["deaths_under1"],
        round(h["live_births"] * 0.007 + offsets("dn", cycle.id) * 0.6),
    )
    h["u5_weighed"] = min(c["pop_under5"], draw("u5_weighed", c["pop_under5"] * 0.94))
    h["u5_underweight"] = draw("u5_underweight", h["u5_weighed"] * 0.11)
    h["u5_measured"] = min(h["u5_weighed"], draw("u5_measured", h["u5_weighed"] * 0.98))
    h["u5_stunted"] = draw("u5_stunted", h["u5_measured"] * 0.19)
    h["u5_overweight"] = draw("u5_overweight", h["u5_weighed"] * 0.05)
    h["u1_total"] = draw("u1_total", c["pop_under5"] / 5)
    h["u1_fully_vaccinated"] = min(h["u1_total"], draw("u1_fully_vaccinated", h["u1_total"] * 0.95))
    h["u5_fully_vaccinated"] = min(
        c["pop_under5"], draw("u5_fully_vaccinated", c["pop_under5"] * 0.95)
    )
    h["hiv_exposed_infants"] = each(
        lambda code: round(between(0, 2.5, seed, code, "hiv", cycle.id) * flow_share)
    )
    h["hiv_infants_positive"] = 0

    e: dict[str, int] = {}
    schools = sum(m.schools for m in models)
    e["schools_total"] = schools
    e["schools_with_toilets"] = schools - each(
        lambda code: uniform(seed, code, "toilets", year) < 0.15
    )
    by_code = {m.code: m.schools for m in models}
    e["schools_psych_support"] = min(
        schools, each(lambda code: round(by_code[code] * between(0.6, 1.0, seed, code, "psy")))
    )
    e["schools_disability_ready"] = min(
        schools, each(lambda code: round(by_code[code] * between(0.3, 0.7, seed, code, "dis")))
    )
    e["u5_assessed"] = min(c["pop_under5"], draw("u5_assessed", c["pop_under5"] * 0.7))
    e["u5_developing_well"] = min(
        e["u5_assessed"], draw("u5_developing_well", e["u5_assessed"] * 0.985)
    )
    e["age5_in_preschool"] = min(c["pop_age5"], draw("age5_in_preschool", c["pop_age5"] * 0.99))
    e["primary_cohort"] = draw("primary_cohort", kids * 0.062)
    e["primary_completed"] = min(
        e["primary_cohort"], draw("primary_completed", e["primary_cohort"] * 0.985)
    )
    e["primary_enrolled"] = draw("primary_enrolled", kids * 0.31)
    e["primary_dropouts"] = round(e["primary_enrolled"] * 0.001 + offsets("pdrop", cycle.id))
    e["lowersec_cohort"] = draw("lowersec_cohort", kids * 0.06)
    e["lowersec_completed"] = min(
        e["lowersec_cohort"], draw("lowersec_completed", e["lowersec_cohort"] * 0.93)
    )
    e["lowersec_enrolled"] = draw("lowersec_enrolled", kids * 0.24)
    e["lowersec_dropouts"] = round(e["lowersec_enrolled"] * 0.004 + offsets("ldrop", cycle.id))
    e["disabled_learning_needs"] = draw("disabled_learning_needs", kids * 0.006) + len(models)
    e["disabled_in_education"] = min(
        e["disabled_learning_needs"],
        draw("disabled_in_education", e["disabled_learning_needs"] * 0.88),
    )

    p = {"abused_cases_police": max(0, c["abused"] - (uniform(seed, unit, "pol", cycle.id) < 0.3))}
    return {"commune": c, "health": h, "education": e, "police": p}
