"""run_validation on DuckDB warehouses built by the test: every rule fires on its planted case
and nowhere else, findings are idempotent, and a failing expectation really fails."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb
import pandas as pd
import pytest
from planted_worlds import Planted, make_settings, planted_world
from qa_tables import World, finding_ids, write_tables

from core.cycles import Cycle
from expectations import CheckTableError, load_suites, run_validation
from expectations.findings import FINDING_COLUMNS
from expectations.gx_runtime import gx_run
from expectations.runner import ValidationSummary, normalise_frame

CYCLE = Cycle.parse("2024-Y")


def read(path: Path, sql: str, params: list[object] | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def validate(tmp_path: Path, worlds: list[World], cycle: Cycle = CYCLE) -> ValidationSummary:
    settings = make_settings(tmp_path)
    write_tables(settings.warehouse, worlds)
    return run_validation(settings, cycle)


@dataclass
class PlantedRun:
    root: Path
    planted: Planted
    summary: ValidationSummary
    findings: pd.DataFrame


@pytest.fixture(scope="module")
def planted_run(gx: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> PlantedRun:
    """The planted world validated once for the tests that only read the outcome. The same
    problems are planted in the previous cycle too: they must not leak into this one."""
    root = tmp_path_factory.mktemp("planted")
    planted = planted_world()
    summary = validate(root, [planted_world("2023-Y").world, planted.world])
    findings = read(root / "warehouse.duckdb", "select * from quality.findings")
    return PlantedRun(root, planted, summary, findings)


def test_gx_is_quiet(gx: ModuleType) -> None:
    """No INFO chatter, and warnings go back to the warnings machinery (GX's modules call
    logging.captureWarnings(True) when imported)."""
    assert logging.getLogger("great_expectations").getEffectiveLevel() == logging.WARNING
    assert warnings.showwarning.__module__ != "logging"
    assert getattr(logging, "_warnings_showwarning", None) is None


def test_clean_data_gives_no_findings(
    gx: ModuleType, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    summary = validate(tmp_path, [World.clean()])
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""  # no progress bars, no log lines

    assert summary.success
    assert summary.findings == 0
    assert {c.findings for c in summary.counts} == {0}
    findings = read(tmp_path / "warehouse.duckdb", "select * from quality.findings")
    assert findings.empty
    runs = read(tmp_path / "warehouse.duckdb", "select * from quality.validation_runs")
    assert sorted(runs["suite"]) == sorted(s.name for s in load_suites())
    assert runs["success"].all()
    assert (runs["unexpected"] == 0).all()
    assert (runs["evaluated"] > 0).all()


def test_each_rule_fires_on_its_planted_case_and_nowhere_else(planted_run: PlantedRun) -> None:
    summary, findings, planted = planted_run.summary, planted_run.findings, planted_run.planted
    assert finding_ids(findings) == planted.expected
    assert len(findings) == len(planted.expected)
    assert summary.findings == len(planted.expected)
    assert set(findings["cycle"]) == {CYCLE.id}

    # every rule of the suites is exercised by the planted world
    assert {r for r, *_ in planted.expected} == {c.rule_id for c in summary.counts}
    severities = dict(zip(findings["rule_id"], findings["severity"], strict=False))
    assert severities["completeness.missing_return"] == "error"
    assert severities["consistency.deaths_chain"] == "error"
    assert severities["cross_source.abused_vs_police"] == "warning"
    assert severities["over_time.modified_z"] == "warning"
    assert severities["timeliness.late_return"] == "warning"
    assert summary.errors + summary.warnings == summary.findings


def test_findings_place_and_explain_the_problem(planted_run: PlantedRun) -> None:
    findings, planted = planted_run.findings, planted_run.planted
    assert list(findings.columns) == list(FINDING_COLUMNS)
    assert findings["finding_key"].is_unique
    assert findings[["district_code", "province_code"]].drop_duplicates().values.tolist() == [
        ["402", "38"]
    ]

    c = planted.world.communes
    agency = findings[
        (findings["rule_id"] == "completeness.missing_return")
        & (findings["reporter_code"] == "402-education")
    ].iloc[0]
    assert agency["unit_code"] == "402"
    assert agency["unit_level"] == "district"
    assert "Phòng Giáo dục và Đào tạo huyện Như Xuân" in agency["message_vi"]
    assert "10/12/2024" in agency["message_vi"]  # Vietnamese dates ...
    assert "2024-12-10" in agency["message_en"]  # ... and ISO ones in English
    assert agency["expected_value"] == "a return by 2024-12-10"
    assert pd.isna(agency["observed_value"])

    spike = findings[findings["rule_id"] == "over_time.modified_z"].iloc[0]
    assert spike["unit_code"] == c[3]
    assert spike["unit_level"] == "commune"
    assert spike["observed_value"] == 3000
    assert "là 3.000" in spike["message_vi"]  # 1.234 the Vietnamese way
    assert "is 3,000" in spike["message_en"]
    assert "trung vị 1.194 qua 4 kỳ" in spike["message_vi"]

    deaths = findings[
        (findings["rule_id"] == "consistency.deaths_chain") & (findings["unit_code"] == c[7])
    ].iloc[0]
    assert deaths["observed_value"] == 5
    assert deaths["expected_value"] == "<= 2 (deaths_under1)"
    assert "(5)" in deaths["message_vi"]
    assert "402-health" in deaths["message_vi"]
    assert (
        deaths["unit_name"]
        == planted.world.expected_returns().set_index("reporter_code").loc[c[7], "unit_name"]
    )

    ratio = findings[
        (findings["rule_id"] == "over_time.ratio_to_mean3") & (findings["unit_code"] == c[4])
    ].iloc[0]
    assert "bằng 141% mức trung bình ba kỳ cùng loại trước (340,0)" in ratio["message_vi"]
    assert "141% of the mean of the previous three comparable cycles (340.0)" in ratio["message_en"]
    # a history carried across the reform says so; one of the commune's own does not
    assert "lịch sử này gồm số liệu của các xã cũ trước sắp xếp" in ratio["message_vi"]
    assert (
        "includes the figures of the former communes before the administrative reform"
        in (ratio["message_en"])
    )
    assert "các xã cũ" not in spike["message_vi"] and "former communes" not in spike["message_en"]


def test_a_failing_expectation_really_fails(planted_run: PlantedRun) -> None:
    """Not the silent wrong result of GX's SQL datasource on DuckDB: the frame read from DuckDB
    fails where it should, with the failing rows, and passes where it should."""
    summary, planted = planted_run.summary, planted_run.planted
    assert not summary.success
    by_suite = {s.suite: s for s in summary.suites}
    assert not by_suite["commune_checks"].success
    assert by_suite["commune_checks"].expectations_failed == 6  # 2 deaths, 1 population, ...
    assert by_suite["expected_returns"].unexpected == 3  # 2 missing + 1 late
    # suppressed findings still count as unexpected rows of GX
    assert by_suite["indicator_checks"].unexpected > by_suite["indicator_checks"].findings

    suite = next(s for s in load_suites() if s.name == "commune_checks")
    frame = planted.world.commune_checks()
    frame = normalise_frame(frame.loc[:, list(suite.columns)], suite.columns)
    with gx_run("bad", None) as run:
        bad = run.validate(suite, frame)
    with gx_run("good", None) as run:
        good = run.validate(
            suite, frame[frame["unit_code"].isin(planted.world.communes[14:])].copy()
        )
    deaths = [
        o for o in bad.outcomes if suite.rules[o.rule_index].element_code == "deaths_neonatal"
    ]
    assert [(o.success, o.unexpected_count) for o in deaths] == [(False, 1)]
    assert deaths[0].unexpected_keys["unit_code"].tolist() == [planted.world.communes[7]]
    assert good.success
    assert all(o.success and o.unexpected_count == 0 for o in good.outcomes)


def test_validating_again_gives_the_same_rows(
    gx: ModuleType, tmp_path: Path, planted: Planted
) -> None:
    settings = make_settings(tmp_path)
    earlier = planted_world("2023-Y").world
    write_tables(settings.warehouse, [earlier, planted.world])
    path = tmp_path / "warehouse.duckdb"

    run_validation(settings, Cycle.parse("2023-Y"))
    first = run_validation(settings, CYCLE)
    findings_1 = read(path, "select * from quality.findings order by cycle, finding_key")
    runs_1 = read(path, "select * from quality.validation_runs order by cycle, suite")
    second = run_validation(settings, CYCLE)
    findings_2 = read(path, "select * from quality.findings order by cycle, finding_key")
    runs_2 = read(path, "select * from quality.validation_runs order by cycle, suite")

    pd.testing.assert_frame_equal(findings_1, findings_2)
    assert set(findings_2["cycle"]) == {"2023-Y", "2024-Y"}  # the other cycle is left alone
    assert len(runs_2) == 2 * len(load_suites())
    pd.testing.assert_frame_equal(runs_1.drop(columns="run_at"), runs_2.drop(columns="run_at"))
    assert set(runs_2["run_key"]) == {"validate:2023-Y", "validate:2024-Y"}
    assert first.counts == second.counts

    # a corrected figure drops its finding on the next run
    planted.world.set(planted.world.communes[7], "deaths_neonatal", 1)
    write_tables(settings.warehouse, [earlier, planted.world])
    third = run_validation(settings, CYCLE)
    assert third.count("consistency.deaths_chain") == first.count("consistency.deaths_chain") - 1


def test_data_docs_are_written_for_the_run(planted_run: PlantedRun) -> None:
    summary, root = planted_run.summary, planted_run.root
    docs = root / "reports" / "2024-Y" / "data_docs"
    assert summary.data_docs_index == docs / "index.html"
    assert summary.data_docs_index.is_file()
    pages = sorted(p.parent.parent.parent.name for p in (docs / "validations").rglob("*.html"))
    assert pages == sorted(s.name for s in load_suites())
    assert "commune_checks" in summary.data_docs_index.read_text(encoding="utf-8")

    # another run replaces the pages instead of piling up
    again = run_validation(make_settings(root), CYCLE, data_docs_dir=docs)
    assert again.data_docs_index == docs / "index.html"
    assert len(list((docs / "validations").rglob("*.html"))) == len(load_suites())


def test_a_missing_table_is_named(gx: ModuleType, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_tables(settings.warehouse, [World.clean(communes=2)])
    con = duckdb.connect(settings.warehouse)
    con.execute("drop table intermediate.int_indicator_values_checked")
    con.close()
    with pytest.raises(
        CheckTableError, match=r"intermediate\.int_indicator_values_checked does not exist"
    ):
        run_validation(settings, CYCLE)


def test_a_missing_column_is_named(gx: ModuleType, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_tables(
        settings.warehouse,
        [World.clean(communes=2)],
        drop_columns={"intermediate.int_element_values_checked": "ratio_to_mean3"},
    )
    with pytest.raises(CheckTableError, match=r"lacks column.*ratio_to_mean3"):
        run_validation(settings, CYCLE)


def test_a_repeated_key_is_refused(gx: ModuleType, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_tables(settings.warehouse, [World.clean(communes=2)])
    con = duckdb.connect(settings.warehouse)
    con.execute(
        "insert into intermediate.int_communes_checked"
        " select * from intermediate.int_communes_checked"
    )
    con.close()
    with pytest.raises(CheckTableError, match="repeat the key"):
        run_validation(settings, CYCLE)


def test_a_null_key_is_refused(gx: ModuleType, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_tables(settings.warehouse, [World.clean(communes=2)])
    con = duckdb.connect(settings.warehouse)
    con.execute(
        "update intermediate.int_element_values_checked set element_code = null"
        " where unit_code = (select min(unit_code) from intermediate.int_element_values_checked)"
    )
    con.close()
    with pytest.raises(CheckTableError, match="null in key columns"):
        run_validation(settings, CYCLE)


def test_normalise_frame_leaves_its_input_alone() -> None:
    frame = pd.DataFrame(
        {
            "code": pd.Series(["a", None], dtype="str"),
            "n": pd.Series([1, None], dtype="Int64"),
        }
    )
    before = frame.copy()
    out = normalise_frame(frame, {"code": "varchar", "n": "integer"})
    pd.testing.assert_frame_equal(frame, before)
    assert out["code"].tolist() == ["a", None] and out["code"].dtype == object
    assert out["n"].dtype == "float64" and out["n"].isna().tolist() == [False, True]
