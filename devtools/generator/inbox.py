"""Generate a realistic inbox: returns from real communes and agencies, for any cycles, with a
chosen share of missing, late, invalid, implausible, superseded and duplicate returns.

Deterministic by seed. Everything planted is listed in `<inbox>/planted.json` with the findings
(quality rule and unit) or the ingest rejection it must cause, so tests can check that each
planted problem is found, and nothing else.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from core.calendar import deadline
from core.cycles import Cycle
from core.hierarchies import hierarchy_versions, read_seed
from core.reference import AGENCIES, AdminUnit, Reference, reference
from core.text import fold_diacritics
from devtools.generator.figures import CommuneModel, commune_figures
from devtools.generator.files import Cell, ReturnFile, return_bytes

DEFAULT_DISTRICTS: tuple[str, ...] = ("047", "106", "402", "535", "874")
"""The districts of the five source plans (Trùng Khánh, Tam Đường, Như Xuân, Ba Tơ, Thanh Bình)."""

DEMO_CYCLES: tuple[str, ...] = (
    *(f"{y}-{k}" for y in range(2021, 2026) for k in ("H1", "Y")),
    "2026-H1",
)
"""2021-H1 to 2026-H1: across the July 2025 reform (2025-H1 is the last pre-reform cycle), so
the demonstration shows series carried onto today's units and 2025-Y and 2026-H1 compared
with the cycles before the reform."""

SPIKE_ELEMENTS = {"commune": "pop_children", "health": "live_births"}
LOCAL_UTC_OFFSET = timedelta(hours=7)


@dataclass(frozen=True)
class ProblemRates:
    """Share of expected reporters per cycle that get each planted problem (at least one each
    when the share is above zero)."""

    missing: float = 0.03
    late: float = 0.05
    invalid_file: float = 0.015
    invalid_row: float = 0.02
    blank: float = 0.02
    implausible: float = 0.03
    superseded: float = 0.02
    duplicate: float = 0.01

    @classmethod
    def clean(cls) -> ProblemRates:
        return cls(0, 0, 0, 0, 0, 0, 0, 0)


@dataclass
class Planted:
    """A problem the generator put in the inbox and what the warehouse must make of it."""

    cycle: str
    kind: str
    variant: str
    reporter_code: str
    file_name: str | None
    ingest_reason: str | None = None
    expected_findings: list[dict[str, str | None]] = field(default_factory=list)


@dataclass
class GeneratedInbox:
    inbox: Path
    cycles: list[str]
    files_written: int
    expected_reporters: dict[str, list[str]]
    planted: list[Planted]


# The generator simulates the first two hierarchy versions (seed hierarchies; before and after
# the 2025 reform) and the succession of communes between them (seed commune_successions).
_PRE, _POST = (version.id for version in hierarchy_versions()[:2])


@cache
def _main_successors() -> dict[str, str]:
    return {
        r["old_commune_code"]: r["new_commune_code"]
        for r in read_seed("commune_successions.csv")
        if r["hierarchy"] == _POST and r["is_main_successor"] == "true"
    }


def select_communes(
    ref: Reference, provinces: Sequence[str] | None, districts: Sequence[str] | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Pre-reform communes to generate, and the scope rows (hierarchy, unit_code) for them.

    Provinces and districts are given in pre-reform codes; `provinces=["all"]` is the country."""
    if provinces and list(provinces) != ["all"]:
        communes = [c for p in provinces for c in ref.communes_of(_PRE, "province", p)]
        scope = [(_PRE, p) for p in provinces]
    elif provinces:
        communes = sorted(u.code for u in ref.units_at(_PRE, "commune"))
        scope = []
    else:
        chosen = list(districts or DEFAULT_DISTRICTS)
        communes = [c for d in chosen for c in ref.communes_of(_PRE, "district", d)]
        scope = [(_PRE, d) for d in chosen]
    missing = [
        p
        for p in (provinces or districts or [])
        if p != "all" and not ref.communes_of(_PRE, "province" if provinces else "district", p)
    ]
    if missing:
        raise ValueError(
            f"no pre-reform {'province' if provinces else 'district'} with code(s) "
            f"{', '.join(missing)}"
        )
    return sorted(communes), scope


class _Generator:
    def __init__(
        self,
        inbox: Path,
        seed: int,
        file_format: str,
        rates: ProblemRates,
        pre_communes: list[str],
        whole_country: bool,
    ) -> None:
        self.ref = reference()
        self.inbox, self.seed, self.file_format, self.rates = inbox, seed, file_format, rates
        self.pre_communes = pre_communes
        self.models = {c: CommuneModel(seed, c, self._urban(_PRE, c)) for c in pre_communes}
        successors = _main_successors()
        self.post_parts: dict[str, list[str]] = defaultdict(list)
        if whole_country:
            for old in (u.code for u in self.ref.units_at(_PRE, "commune")):
                self.post_parts[successors[old]].append(old)
            for unit in self.ref.units_at(_POST, "commune"):
                self.post_parts.setdefault(unit.code, [unit.code])
        else:
            for old in pre_communes:
                self.post_parts[successors[old]].append(old)
            # a new commune is the sum of all its predecessors, selected or not
            for old, new in successors.items():
                if new in self.post_parts and old not in self.post_parts[new]:
                    self.post_parts[new].append(old)
        # the figures delivered, per (cycle, commune, element), and the cycles generated so
        # far: a commune's history as the warehouse reads it (int_element_values_history)
        self.reported: set[tuple[str, str, str]] = set()
        self.cycles_done: list[Cycle] = []
        self.planted: list[Planted] = []
        self._variants: dict[str, int] = defaultdict(int)

    def _variant(self, kind: str, options: Sequence[str]) -> str:
        """Rotate through a kind's variants across the whole inbox, so every one appears."""
        choice = options[self._variants[kind] % len(options)]
        self._variants[kind] += 1
        return choice

    def _urban(self, hierarchy: str, code: str) -> bool:
        unit = self.ref.commune(hierarchy, code)
        return bool(unit and unit.area_type == "urban")

    def _model(self, code: str) -> CommuneModel:
        if code not in self.models:
            self.models[code] = CommuneModel(self.seed, code, self._urban(_PRE, code))
        return self.models[code]

    def communes(self, cycle: Cycle) -> list[str]:
        return self.pre_communes if cycle.has_districts else sorted(self.post_parts)

    def figures(self, cycle: Cycle, commune: str) -> dict[str, dict[str, int]]:
        parts = [commune] if cycle.has_districts else self.post_parts[commune]
        return commune_figures([self._model(p) for p in parts], commune, cycle, self.seed)

    # -- one cycle ----------------------------------------------------------------------------
    def cycle_returns(
        self, cycle: Cycle, is_last_of_kind: bool
    ) -> list[tuple[ReturnFile, datetime]]:
        rng = random.Random(f"{self.seed}:{cycle.id}")
        communes = self.communes(cycle)
        reporters = self.ref.expected_reporters(cycle.hierarchy, communes)
        figures = {c: self.figures(cycle, c) for c in communes}
        in_scope = set(communes)

        order = reporters[:]
        rng.shuffle(order)
        n = len(reporters)

        def take(rate: float, pool: list[str]) -> list[str]:
            count = 0 if rate <= 0 else max(1, round(rate * n))
            chosen, pool[:] = pool[:count], pool[count:]
            return chosen

        file_plans: dict[str, str] = {}
        for kind, rate in (
            ("missing", self.rates.missing),
            ("invalid_file", self.rates.invalid_file),
            ("late", self.rates.late),
            ("superseded", self.rates.superseded),
            ("duplicate", self.rates.duplicate),
        ):
            for chosen in take(rate, order):
                file_plans[chosen] = kind
        row_pool = [r for r in order if r not in file_plans]
        row_plans: dict[str, str] = {}
        for kind, rate in (
            ("invalid_row", self.rates.invalid_row),
            ("blank", self.rates.blank),
            ("implausible", self.rates.implausible),
        ):
            for chosen in take(rate, row_pool):
                row_plans[chosen] = kind

        # cross-source plants need the commune's own return present and untouched
        untouched = {r for r in reporters if r not in file_plans and r not in row_plans}
        returns: list[tuple[ReturnFile, datetime]] = []
        variant = self._variant

        for reporter_code in reporters:
            reporter = self.ref.reporter(reporter_code, cycle.hierarchy)
            assert reporter is not None
            units = sorted(in_scope & reporter.communes)
            role = reporter.role
            rows: list[tuple[str, str, str, Cell]] = []
            for unit in units:
                for element in self.ref.elements_by_role[role]:
                    rows.append(
                        (
                            unit if reporter.kind == "agency" else "",
                            element,
                            self.ref.elements[element].name_vi,
                            figures[unit][role][element],
                        )
                    )
            ret = ReturnFile(
                file_name=self._file_name(reporter_code, reporter.unit, cycle, rng),
                cycle=cycle.id,
                reporter_code=reporter_code,
                reporter_name=("UBND " + reporter.name_vi[:1].lower() + reporter.name_vi[1:])
                if reporter.kind == "commune"
                else reporter.name_vi,
                submitted_on=None,
                rows=rows,
            )
            self._choose_format(ret, reporter.kind, rng)
            due = deadline(cycle, reporter.unit.district_code)
            sent = due - timedelta(days=rng.randint(1, 25))
            file_plan = file_plans.get(reporter_code)
            row_plan = row_plans.get(reporter_code)

            if file_plan == "missing":
                self._plant(
                    cycle,
                    "missing",
                    "no_file",
                    reporter_code,
                    None,
                    findings=[self._missing_return(reporter_code, reporter.unit.code)],
                )
                continue
            if row_plan:
                self._plant_rows(
                    cycle,
                    ret,
                    reporter,
                    row_plan,
                    units,
                    variant,
                    rng,
                    is_last_of_kind,
                    figures,
                    untouched,
                )
            if file_plan == "late":
                sent = due + timedelta(days=rng.randint(3, 30))
                self._plant(
                    cycle,
                    "late",
                    "after_deadline",
                    reporter_code,
                    ret.file_name,
                    findings=[
                        {
                            "rule_id": "timeliness.late_return",
                            "reporter_code": reporter_code,
                            "unit_code": reporter.unit.code,
                        }
                    ],
                )
            ret.submitted_on = self._format_date(sent, ret, rng)
            # Without submitted_on the day received counts: an on-time return must arrive by
            # the deadline too (a late one is planted, and declared, above).
            latest = None if ret.submitted_on or file_plan == "late" else due
            received = self._received(sent, rng, latest)
            if file_plan == "invalid_file":
                reason = self._break_file(
                    ret,
                    cycle,
                    variant(
                        "invalid_file",
                        (
                            "corrupt",
                            "wrong_cycle",
                            "unknown_reporter",
                            "missing_column",
                            "not_utf8",
                        ),
                    ),
                )
                self._plant(
                    cycle,
                    "invalid_file",
                    reason,
                    reporter_code,
                    ret.file_name,
                    ingest_reason=reason,
                    findings=[self._missing_return(reporter_code, reporter.unit.code)],
                )
            elif file_plan == "superseded":
                first = replace(
                    ret,
                    rows=[
                        (u, e, n, v * 10 if isinstance(v, int) and e.startswith("pop_") else v)
                        for u, e, n, v in ret.rows
                    ],
                )
                first.file_name = ret.file_name.replace(".", "_lan1.", 1)
                first.submitted_on = self._format_date(sent - timedelta(days=4), first, rng)
                returns.append((first, received - timedelta(days=4)))
                ret.file_name = ret.file_name.replace(".", "_lan2.", 1)
                self._plant(cycle, "superseded", "corrected_return", reporter_code, ret.file_name)
            elif file_plan == "duplicate":
                copy = replace(ret)
                name = Path(ret.file_name)
                copy.file_name = f"{name.stem} (1){name.suffix}"
                returns.append((copy, received + timedelta(hours=2)))
                self._plant(cycle, "duplicate", "same_bytes_twice", reporter_code, copy.file_name)
            returns.append((ret, received))
            if file_plan != "invalid_file":
                self._remember(cycle, ret, reporter_code)
        self.cycles_done.append(cycle)
        return returns

    def _missing_return(self, reporter_code: str, unit_code: str) -> dict[str, str | None]:
        return {
            "rule_id": "completeness.missing_return",
            "reporter_code": reporter_code,
            "unit_code": unit_code,
        }

    def _remember(self, cycle: Cycle, ret: ReturnFile, reporter_code: str) -> None:
        for unit, element, _, value in ret.rows:
            if isinstance(value, int):
                self.reported.add((cycle.id, unit or reporter_code, element))

    def _history_cycles(self, cycle: Cycle, commune: str, element: str) -> int:
        """Earlier cycles of the kind with a figure for the commune, as the warehouse counts
        them: by code in the cycle's hierarchy; in the version before (the reform), where
        every predecessor of the commune delivered it."""
        count = 0
        for earlier in self.cycles_done:
            if earlier.kind != cycle.kind or earlier.year >= cycle.year:
                continue
            if earlier.hierarchy == cycle.hierarchy:
                count += (earlier.id, commune, element) in self.reported
            elif (earlier.hierarchy, cycle.hierarchy) == (_PRE, _POST):
                parts = self.post_parts.get(commune, [])
                count += bool(parts) and all(
                    (earlier.id, part, element) in self.reported for part in parts
                )
        return count

    def _plant(
        self,
        cycle: Cycle,
        kind: str,
        variant: str,
        reporter: str,
        file_name: str | None,
        ingest_reason: str | None = None,
        findings: list[dict[str, str | None]] | None = None,
    ) -> None:
        self.planted.append(
            Planted(cycle.id, kind, variant, reporter, file_name, ingest_reason, findings or [])
        )

    def _plant_rows(
        self,
        cycle: Cycle,
        ret: ReturnFile,
        reporter: object,
        plan: str,
        units: list[str],
        variant: object,
        rng: random.Random,
        is_last: bool,
        figures: dict[str, dict[str, dict[str, int]]],
        untouched: set[str],
    ) -> None:
        from core.reference import Reporter

        assert isinstance(reporter, Reporter)
        pick = variant  # type: ignore[assignment]
        code = reporter.code
        unit = rng.choice(units)
        row_unit = unit if reporter.kind == "agency" else ""
        index_of = {(u or code, e): i for i, (u, e, _, _) in enumerate(ret.rows)}
        counts = [
            e
            for e in self.ref.elements_by_role[reporter.role]
            if self.ref.elements[e].kind != "flag"
        ]

        def finding(
            rule: str, element: str | None = None, indicator: str | None = None, at: str = unit
        ) -> dict[str, str | None]:
            return {
                "rule_id": rule,
                "reporter_code": code,
                "unit_code": at,
                "element_code": element,
                "indicator_code": indicator,
            }

        def set_value(element: str, value: Cell, at: str = unit) -> None:
            i = index_of[(at, element)]
            u, e, n, _ = ret.rows[i]
            ret.rows[i] = (u, e, n, value)

        if plan == "blank":
            element = rng.choice(counts)
            set_value(element, None)
            self._plant(
                cycle,
                "blank",
                "blank_value",
                code,
                ret.file_name,
                findings=[finding("completeness.missing_element", element)],
            )
            return
        if plan == "invalid_row":
            kind = pick(
                "invalid_row",
                (
                    "text",
                    "negative",
                    "decimal",
                    "formula_error",  # type: ignore[operator]
                    "unknown_element",
                    "outside_jurisdiction",
                    "not_in_role",
                ),
            )
            element = rng.choice(counts)
            reason = {
                "text": "not_a_number",
                "negative": "negative_value",
                "decimal": "decimal_value",
                "formula_error": "formula_error",
                "unknown_element": "unknown_element",
                "outside_jurisdiction": "unit_outside_jurisdiction",
                "not_in_role": "element_not_in_role",
            }[kind]
            findings: list[dict[str, str | None]] = []
            if kind in ("text", "negative", "decimal", "formula_error"):
                i = index_of[(unit, element)]
                if kind == "formula_error" and ret.file_format == "xlsx":
                    ret.formula_error_rows.add(i)
                else:
                    planted_values: dict[str, Cell] = {
                        "text": "không rõ",
                        "negative": -5,
                        "decimal": "12,5",
                        "formula_error": "#DIV/0!",
                    }
                    set_value(element, planted_values[kind])
                findings.append(finding("completeness.missing_element", element))
            elif kind == "unknown_element":
                ret.rows.append((row_unit, "pop_under6", "Số trẻ em dưới 6 tuổi", 120))
            elif kind == "outside_jurisdiction":
                outside = self._commune_outside(cycle, reporter.communes)
                ret.rows.append((outside, element, self.ref.elements[element].name_vi, 7))
            else:
                foreign = "live_births" if reporter.role != "health" else "pop_children"
                ret.rows.append((row_unit, foreign, self.ref.elements[foreign].name_vi, 42))
            self._plant(
                cycle,
                "invalid_row",
                kind,
                code,
                ret.file_name,
                ingest_reason=reason,
                findings=findings,
            )
            return
        # implausible
        options = {
            "commune": ["numerator_gt_denominator", "injury_chain", "population_chain", "spike"],
            "health": ["deaths_chain", "u5_weighed_vs_pop", "spike"],
            "education": ["numerator_gt_denominator"],
            "police": ["abused_vs_police"],
        }[reporter.role]
        # A large move stays in the history of later cycles and would be flagged again there
        # (rightly: the WHO rule compares with the previous three); plant those only where no
        # later comparable cycle follows.
        large_moves = ("population_chain", "spike")
        candidates = [o for o in options if o not in large_moves]
        if is_last and reporter.role == "commune":
            candidates.append("population_chain")
        if is_last and reporter.role in SPIKE_ELEMENTS:
            element = SPIKE_ELEMENTS[reporter.role]
            history_unit = unit if reporter.kind == "agency" else code
            if self._history_cycles(cycle, history_unit, element) >= 3:
                candidates = ["spike"]
        kind = pick(f"implausible_{reporter.role}", candidates)  # type: ignore[operator]
        commune_ok = unit in untouched
        if kind in ("u5_weighed_vs_pop", "abused_vs_police") and not commune_ok:
            kind = "deaths_chain" if reporter.role == "health" else "none"
        if kind == "none":
            return
        fig = figures[unit]
        if kind == "spike":
            element = SPIKE_ELEMENTS[reporter.role]
            value = fig[reporter.role][element]
            set_value(element, value * 3 if reporter.role == "health" else round(value * 2.5))
            found = [
                finding("over_time.modified_z", element),
                finding("over_time.ratio_to_mean3", element),
            ]
        elif kind == "numerator_gt_denominator" and reporter.role == "commune":
            set_value("u5_birth_registered", fig["commune"]["pop_under5"] + 5)
            found = [finding("consistency.numerator_le_denominator", "u5_birth_registered", "CT14")]
        elif kind == "numerator_gt_denominator":
            set_value("primary_completed", fig["education"]["primary_cohort"] + 3)
            found = [finding("consistency.numerator_le_denominator", "primary_completed", "CT17a")]
        elif kind == "injury_chain":
            # small counts: exempt from the over-time rules, so the chain is the only finding
            set_value("injury_deaths", fig["commune"]["injuries"] + 1)
            found = [finding("consistency.injury_deaths_le_injuries", "injury_deaths")]
        elif kind == "population_chain":
            set_value("pop_age5", fig["commune"]["pop_under8"] + 4)
            found = [finding("consistency.population_chain", "pop_age5")]
            # pop_age5 is CT16's denominator: a larger one raises no other rule
        elif kind == "deaths_chain":
            set_value("deaths_neonatal", fig["health"]["deaths_under1"] + 2)
            found = [finding("consistency.deaths_chain", "deaths_neonatal")]
        elif kind == "u5_weighed_vs_pop":
            weighed = round(fig["commune"]["pop_under5"] * 1.1) + 2
            set_value("u5_weighed", weighed)
            found = [finding("cross_source.u5_weighed_vs_pop_under5", "u5_weighed")]
        else:  # abused_vs_police
            set_value("abused_cases_police", fig["commune"]["abused"] + 2)
            found = [finding("cross_source.abused_vs_police", "abused_cases_police")]
        self._plant(cycle, "implausible", kind, code, ret.file_name, findings=found)

    def _commune_outside(self, cycle: Cycle, own: frozenset[str]) -> str:
        for unit in self.ref.units_at(cycle.hierarchy, "commune"):
            if unit.code not in own:
                return unit.code
        raise AssertionError("every commune is inside")

    # -- files ----------------------------------------------------------------------------------
    def _file_name(
        self, reporter_code: str, unit: AdminUnit, cycle: Cycle, rng: random.Random
    ) -> str:
        short = "_".join(fold_diacritics(unit.name_vi[len(unit.unit_type_vi) :]).split())
        if "-" in reporter_code:
            return f"BC_{reporter_code}_{cycle.id}.xlsx"
        style = rng.random()
        if style < 0.5:
            return f"{reporter_code}_{short}_{cycle.id}.xlsx"
        if style < 0.8:  # names are not unique across districts: the code keeps files apart
            return f"BaoCao_TreEm_{short}_{reporter_code}_{cycle.id.replace('-', '_')}.xlsx"
        return f"bc {short.replace('_', ' ')} {reporter_code} {cycle.id}.xlsx"

    def _choose_format(self, ret: ReturnFile, kind: str, rng: random.Random) -> None:
        fmt = self.file_format
        if fmt == "mixed":
            fmt = "csv" if rng.random() < (0.6 if kind == "agency" else 0.3) else "xlsx"
        ret.file_format = fmt
        if fmt == "csv":
            ret.file_name = ret.file_name.rsplit(".", 1)[0] + ".csv"
            semicolon = kind == "agency" and rng.random() < 0.7
            ret.csv_delimiter = ";" if semicolon else ","
            ret.vn_number_format = semicolon
            ret.csv_bom = rng.random() < 0.4

    def _format_date(self, day: date, ret: ReturnFile, rng: random.Random) -> str | None:
        if ret.file_format == "csv" and rng.random() < 0.1:
            return None  # no submitted_on column: the received date counts
        return day.strftime("%d/%m/%Y") if rng.random() < 0.5 else day.isoformat()

    def _received(self, sent: date, rng: random.Random, latest: date | None = None) -> datetime:
        """When the file lands in the inbox: the day it was sent or up to two days later (never
        after `latest`), in office hours, as a UTC time (file mtimes are UTC)."""
        day = sent + timedelta(days=rng.choice((0, 0, 1, 2)))
        if latest is not None:
            day = min(day, latest)
        local = datetime.combine(day, time(rng.randint(7, 16), rng.randint(0, 59)))
        return local - LOCAL_UTC_OFFSET

    def _break_file(self, ret: ReturnFile, cycle: Cycle, how: str) -> str:
        if how == "corrupt":
            ret.file_format = "xlsx"
            ret.file_name = ret.file_name.rsplit(".", 1)[0] + ".xlsx"
            ret.damage = "corrupt"
            return "unreadable_file"
        if how == "wrong_cycle":
            other = Cycle(cycle.year, "Y" if cycle.kind == "H1" else "H1")
            ret.override_cycle = other.id
            return "cycle_mismatch"
        if how == "unknown_reporter":
            ret.reporter_code = "99999" if "-" not in ret.reporter_code else "999-health"
            return "unknown_reporter"
        ret.file_format = "csv"
        ret.file_name = ret.file_name.rsplit(".", 1)[0] + ".csv"
        ret.damage = how
        return "missing_column" if how == "missing_column" else "not_utf8"


def _write(job: tuple[ReturnFile, datetime, str]) -> str:
    ret, received, folder = job
    path = Path(folder) / ret.file_name
    path.write_bytes(return_bytes(ret))
    stamp = received.replace(tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    return str(path)


def generate_inbox(
    inbox: Path,
    cycles: Sequence[str],
    *,
    districts: Sequence[str] | None = None,
    provinces: Sequence[str] | None = None,
    seed: int = 1,
    file_format: str = "xlsx",
    rates: ProblemRates | None = None,
    workers: int | None = None,
) -> GeneratedInbox:
    """Write returns for `cycles` into `<inbox>/<cycle>/`, plus `scope.csv` and `planted.json`.

    Units: the five plans' districts by default; `districts` or `provinces` (pre-reform codes,
    or `["all"]`) to choose others. Cycles after the July 2025 reform use the successor communes
    of the same units and province agencies."""
    if file_format not in ("xlsx", "csv", "mixed"):
        raise ValueError("file_format is xlsx, csv or mixed")
    parsed = sorted(Cycle.parse(c) for c in cycles)
    ref = reference()
    pre_communes, scope = select_communes(ref, provinces, districts)
    whole_country = bool(provinces) and list(provinces or []) == ["all"]
    gen = _Generator(inbox, seed, file_format, rates or ProblemRates(), pre_communes, whole_country)
    if not whole_country:
        scope += [
            (_POST, c)
            for c in sorted(gen.post_parts)
            if any(p in set(pre_communes) for p in gen.post_parts[c])
        ]
        gen.post_parts = {
            c: parts for c, parts in gen.post_parts.items() if (_POST, c) in set(scope)
        }

    inbox.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[ReturnFile, datetime, str]] = []
    expected: dict[str, list[str]] = {}
    for cycle in parsed:
        folder = inbox / cycle.id
        folder.mkdir(parents=True, exist_ok=True)
        last = not any(c.kind == cycle.kind and c.year > cycle.year for c in parsed)
        expected[cycle.id] = ref.expected_reporters(cycle.hierarchy, gen.communes(cycle))
        jobs.extend(
            (ret, received, str(folder)) for ret, received in gen.cycle_returns(cycle, last)
        )
    workers = workers or os.cpu_count() or 1
    if len(jobs) > 400 and workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write, jobs, chunksize=64))
    else:
        for job in jobs:
            _write(job)

    with (inbox / "scope.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["hierarchy", "unit_code"])
        writer.writerows(sorted(set(scope)))
    result = GeneratedInbox(inbox, [c.id for c in parsed], len(jobs), expected, gen.planted)
    (inbox / "planted.json").write_text(
        json.dumps(
            {"seed": seed, "cycles": result.cycles, "planted": [asdict(p) for p in gen.planted]},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    return result


__all__ = [
    "AGENCIES",
    "DEFAULT_DISTRICTS",
    "DEMO_CYCLES",
    "GeneratedInbox",
    "Planted",
    "ProblemRates",
    "generate_inbox",
]
