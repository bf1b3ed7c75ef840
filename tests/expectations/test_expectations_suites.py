"""The suite files: every rule of issue 4 is there, well formed, buildable by GX, and the README's
spec is the one generated from them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from expectations.spec import BEGIN, END, README, readme_with_spec, spec_markdown
from expectations.suites import SUITES_DIR, SuiteError, load_suites, parse_suite, rule_catalogue

ISSUE_4_RULES = {
    "completeness.missing_return": "error",
    "completeness.missing_element": "error",
    "timeliness.late_return": "warning",
    "consistency.numerator_le_denominator": "error",
    "consistency.deaths_chain": "error",
    "consistency.population_chain": "error",
    "consistency.injury_deaths_le_injuries": "error",
    "range.indicator_possible_range": "error",
    "cross_source.u5_weighed_vs_pop_under5": "warning",
    "cross_source.abused_vs_police": "warning",
    "over_time.modified_z": "warning",
    "over_time.ratio_to_mean3": "warning",
}


def test_every_rule_of_issue_4_with_its_severity() -> None:
    assert rule_catalogue() == ISSUE_4_RULES
    assert next(iter(rule_catalogue())).startswith("completeness.")


def test_suites_name_their_tables_and_keys() -> None:
    suites = load_suites()
    assert [s.table for s in suites] == [
        "intermediate.int_returns_checked",
        "intermediate.int_element_values_checked",
        "intermediate.int_indicator_values_checked",
        "intermediate.int_communes_checked",
    ]
    for suite in suites:
        assert set(suite.id_columns) <= set(suite.columns)
        for rule in suite.rules:
            assert rule.message_vi and rule.message_en and rule.expected
            assert set(rule.columns) <= set(suite.columns)


def test_thresholds_are_the_documented_ones() -> None:
    by_rule = {(r.rule_id, r.kwargs.get("column")): r for s in load_suites() for r in s.rules}
    z = by_rule[("over_time.modified_z", "modified_z")]
    assert (z.kwargs["min_value"], z.kwargs["max_value"]) == (-3.5, 3.5)
    ratio = by_rule[("over_time.ratio_to_mean3", "ratio_to_mean3")]
    assert (ratio.kwargs["min_value"], ratio.kwargs["max_value"]) == (0.67, 1.33)
    for rule in (z, ratio):
        history = rule.kwargs["row_condition"]["conditions"][0]
        assert history["column"]["name"] == "history_cycles"
        assert (history["operator"], history["parameter"]) == (">=", 3)
    weighed = by_rule[("cross_source.u5_weighed_vs_pop_under5", "u5_weighed_per_pop_under5")]
    assert weighed.kwargs["max_value"] == 1.05


def test_gx_builds_every_expectation(gx: ModuleType) -> None:
    gx.get_context(mode="ephemeral")
    for suite in load_suites():
        built = suite.to_gx()
        assert len(built.expectations) == len(suite.rules)
        assert {e.severity.value for e in built.expectations} <= {"critical", "warning"}


def _copy_suite(tmp_path: Path, change: dict[str, object]) -> Path:
    source = json.loads((SUITES_DIR / "40_commune_checks.json").read_text(encoding="utf-8"))
    first = source["expectations"][0]
    for key, value in change.items():
        target, _, field = key.partition(".")
        if target == "kwargs":
            first["kwargs"][field] = value
        elif target == "meta":
            first["meta"][field] = value
        else:
            first[target] = value
    path = tmp_path / "suites" / "40_commune_checks.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(source, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_rule_gx_cannot_build_is_refused_not_dropped(gx: ModuleType, tmp_path: Path) -> None:
    """GX logs and drops an expectation of unknown type: the rule would never run."""
    gx.get_context(mode="ephemeral")
    misspelt = "expect_column_pair_values_a_to_be_gretaer_than_b"
    suite = parse_suite(_copy_suite(tmp_path, {"type": misspelt}))
    with pytest.raises(SuiteError, match="GX could not build 1 expectation"):
        suite.to_gx()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"meta.severity": "critical"}, "severity must be one of"),
        ({"meta.message_vi": ""}, "missing 'message_vi'"),
        ({"meta.message_en": "{unknown_column} is off"}, "not declared.*unknown_column"),
        ({"kwargs.column_A": "deaths_total"}, "not declared.*deaths_total"),
        ({"kwargs.row_condition": "deaths_under1 > 0"}, "condition object, not a string"),
    ],
)
def test_malformed_rules_are_refused(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(SuiteError, match=message):
        parse_suite(_copy_suite(tmp_path, change))


def test_suppression_must_name_a_known_rule(tmp_path: Path) -> None:
    for path in SUITES_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    document = json.loads((tmp_path / "40_commune_checks.json").read_text(encoding="utf-8"))
    document["expectations"][0]["meta"]["suppressed_by"] = ["consistency.no_such_rule"]
    (tmp_path / "40_commune_checks.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(SuiteError, match="unknown rule"):
        load_suites(tmp_path)


def test_readme_spec_is_generated_from_the_suites() -> None:
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert readme_with_spec(text, spec_markdown()) == text, (
        "expectations/README.md is stale: run `python -m expectations.spec`"
    )
