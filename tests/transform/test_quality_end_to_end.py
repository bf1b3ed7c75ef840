"""Issue 4's "done when": on a generated inbox with planted problems (the five plans' districts,
2021-H1 to 2026-H1, across the reform), ingest, dbt and the Great Expectations suites find every
planted problem with the right rule, reporter, unit, element and indicator in
`marts.fct_quality_issues`, and nothing else.

A return without `submitted_on` counts as delivered on the day it arrived (the project's rule);
`test_the_generator_declares_every_late_return` checks, independently of the models, that the
generator never lets such a return arrive late without declaring it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from core.calendar import deadline
from core.cycles import Cycle
from core.reference import reference
from core.settings import Settings
from cycle.transform import run_transform
from devtools.generator import DEFAULT_DISTRICTS, DEMO_CYCLES, generate_inbox
from expectations import run_validation
from ingest.pipeline import ingest_cycle
from tests.transform.conftest import read, settings_under
from tests.transform.quality_recompute import HISTORY_COLUMNS, assert_close, expected_history

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("transform")]

CYCLES = DEMO_CYCLES
"""2021-H1 to 2026-H1. The generator plants spikes (over-time rules) in the last cycle of a kind
with three earlier ones: 2025-Y and 2026-H1, both after the reform, whose communes' history is
their predecessors' figures carried across it (the findings say so)."""
SEED = 15
"""A seed planting ten of the suites' twelve rules, both over-time rules in 2025-Y and 2026-H1
(on histories carried across the reform): all the generator plants but
consistency.population_chain."""

FindingId = tuple[str | None, ...]
"""(cycle, rule_id, reporter_code, unit_code, element_code, indicator_code)"""
FIELDS = ("rule_id", "reporter_code", "unit_code", "element_code", "indicator_code")


@dataclass
class Validated:
    settings: Settings
    planted: list[dict[str, Any]]
    findings: pd.DataFrame


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> Validated:
    base = tmp_path_factory.mktemp("quality_e2e")
    settings = settings_under(base)
    generate_inbox(
        settings.inbox, CYCLES, districts=list(DEFAULT_DISTRICTS), seed=SEED, file_format="mixed"
    )
    for cycle_id in CYCLES:
        ingest_cycle(settings, Cycle.parse(cycle_id))
    run_transform(settings, Cycle.parse(CYCLES[-1]), full_refresh=True)
    for cycle_id in CYCLES:  # in order: alerts compare each run with the previous one
        run_validation(settings, Cycle.parse(cycle_id), data_docs_dir=base / "docs" / cycle_id)
    planted = json.loads((settings.inbox / "planted.json").read_text(encoding="utf-8"))
    # a view over quality.findings: what validation wrote, without another transform
    findings = read(settings, "select * from marts.fct_quality_issues")
    return Validated(settings, planted["planted"], findings)


def _text(value: object) -> str | None:
    """A code as text; None for SQL NULL (None or NaN, whichever the backend gives)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def planted_findings(planted: list[dict[str, Any]]) -> set[FindingId]:
    return {
        (p["cycle"], *(_text(finding.get(f)) for f in FIELDS))
        for p in planted
        for finding in p["expected_findings"]
    }


def found_findings(findings: pd.DataFrame) -> list[FindingId]:
    return [
        (str(row["cycle"]), *(_text(row[f]) for f in FIELDS)) for row in findings.to_dict("records")
    ]


def undeclared_late_returns(settings: Settings, planted: list[dict[str, Any]]) -> set[FindingId]:
    """Loaded returns without a submitted_on that arrived after their deadline (core.calendar)
    although the generator planted no late return for the reporter."""
    declared_late = {(p["cycle"], p["reporter_code"]) for p in planted if p["kind"] == "late"}
    files = read(
        settings,
        "select cycle, reporter_code, received_at from raw.received_files "
        "where status = 'loaded' and submitted_on is null",
    )
    ref = reference()
    late: set[FindingId] = set()
    for row in files.itertuples(index=False):
        cycle = Cycle.parse(row.cycle)
        reporter = ref.reporter(row.reporter_code, cycle.hierarchy)
        assert reporter is not None
        due = deadline(cycle, reporter.unit.district_code)
        if pd.Timestamp(row.received_at).date() > due and (row.cycle, row.reporter_code) not in (
            declared_late
        ):
            late.add(
                (row.cycle, "timeliness.late_return", reporter.code, reporter.unit.code, None, None)
            )
    return late


def test_every_planted_problem_is_found(validated: Validated) -> None:
    expected = planted_findings(validated.planted)
    assert len(expected) > 80
    assert {finding[1] for finding in expected} >= {
        "completeness.missing_return",
        "completeness.missing_element",
        "timeliness.late_return",
        "consistency.numerator_le_denominator",
        "consistency.deaths_chain",
        "cross_source.u5_weighed_vs_pop_under5",
        "cross_source.abused_vs_police",
        "over_time.modified_z",
        "over_time.ratio_to_mean3",
    }
    missed = expected - set(found_findings(validated.findings))
    assert not missed, sorted(missed, key=str)


def test_nothing_else_is_found(validated: Validated) -> None:
    found = found_findings(validated.findings)
    assert len(found) == len(set(found))  # one row per finding
    extras = set(found) - planted_findings(validated.planted)
    assert not extras, sorted(extras, key=str)


def test_the_generator_declares_every_late_return(tmp_path: Path) -> None:
    """Seed 1 over 2021-Y..2025-Y once let 03421's 2025-H1 csv (no submitted_on, sent on 14 June)
    arrive on 16 June, after Tam Đường's deadline of 15 June, undeclared."""
    settings = settings_under(tmp_path)
    cycles = ("2021-Y", "2022-Y", "2023-Y", "2024-Y", "2025-H1", "2025-Y")
    generated = generate_inbox(settings.inbox, cycles, seed=1, file_format="mixed")
    for cycle_id in cycles:
        ingest_cycle(settings, Cycle.parse(cycle_id))
    planted = [asdict(p) for p in generated.planted]
    assert not undeclared_late_returns(settings, planted)


def test_findings_carry_the_names_reports_need(validated: Validated) -> None:
    findings = validated.findings
    assert not findings.empty
    hierarchy = findings["cycle"].map(lambda c: Cycle.parse(c).hierarchy)
    assert (findings["hierarchy"] == hierarchy).all()
    for column in (
        "unit_name_vi",
        "province_name_vi",
        "reporter_name_vi",
        "reporter_role",
        "validated_at",
        "message_vi",
        "message_en",
    ):
        assert findings[column].notna().all(), column
    for code, name in (
        ("district_code", "district_name_vi"),
        ("element_code", "element_name_vi"),
        ("indicator_code", "indicator_name_en"),
    ):
        assert (findings[code].isna() == findings[name].isna()).all(), name
    assert set(findings.loc[findings["cycle"] == "2025-Y", "unit_level"]) <= {
        "commune",
        "province",
    }
    assert findings.loc[findings["cycle"] == "2025-Y", "district_code"].isna().all()


def test_over_time_measures_with_three_earlier_cycles(validated: Validated) -> None:
    actual = read(
        validated.settings,
        f"select cycle, unit_code, element_code, value, {', '.join(HISTORY_COLUMNS)} "
        "from intermediate.int_element_values_checked",
    )
    expected = expected_history(validated.settings).merge(
        actual[["cycle", "unit_code", "element_code"]].drop_duplicates()
    )
    assert_close(
        actual, expected, ["cycle", "unit_code", "element_code"], ["value", *HISTORY_COLUMNS]
    )
    history = actual.groupby("cycle")["history_cycles"].max()
    assert history["2024-Y"] == 3 and history["2025-H1"] == 4
    # after the reform: the predecessors' cycles carried across it, then the commune's own
    assert history["2025-Y"] == 4 and history["2026-H1"] == 5
    assert actual.loc[actual["cycle"] == "2024-Y", "mean3"].notna().any()


def test_findings_on_a_carried_history_say_so(validated: Validated) -> None:
    findings = validated.findings
    over_time = findings[findings["rule_id"].str.startswith("over_time.")]
    carried = over_time[over_time["cycle"].isin(["2025-Y", "2026-H1"])]
    assert set(carried["cycle"]) == {"2025-Y", "2026-H1"}
    assert carried["message_vi"].str.contains("số liệu của các xã cũ trước sắp xếp").all()
    assert carried["message_en"].str.contains("former communes before the administrative").all()
    own = over_time[~over_time["cycle"].isin(["2025-Y", "2026-H1"])]
    assert not own["message_en"].str.contains("former communes").any()
