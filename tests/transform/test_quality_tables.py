"""The check-ready tables of the quality suites (issue 4), built by dbt on the generated inbox of
two provinces: they keep the suites' contract, hold the figures of loaded returns only (nulls,
never zeros, for what is missing), and their over-time measures are the README's; a one-cycle
rebuild gives what a full build gives, also for the later cycles whose history changed."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from core.cycles import Cycle
from core.reference import reference
from core.warehouse import Warehouse
from cycle.transform import run_transform
from expectations.runner import check_table, read_check_table
from expectations.suites import load_suites
from ingest.pipeline import ingest_cycle
from tests.transform.conftest import CYCLES, BuiltWarehouse, read
from tests.transform.quality_recompute import (
    HISTORY_COLUMNS,
    assert_close,
    expected_history,
    loaded_figures,
)

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

QA_TABLES = {
    "int_returns_checked": ["cycle", "reporter_code"],
    "int_element_values_checked": ["cycle", "reporter_code", "unit_code", "element_code"],
    "int_indicator_values_checked": ["cycle", "unit_code", "indicator_code"],
    "int_communes_checked": ["cycle", "unit_code"],
}
DUCKDB_TYPES = {
    "varchar": {"VARCHAR"},
    "double": {"DOUBLE"},
    "integer": {"INTEGER"},
    "boolean": {"BOOLEAN"},
    "date": {"DATE"},
}


def test_tables_keep_the_suites_contract(built: BuiltWarehouse) -> None:
    """What the runner checks before validating (table, declared columns, key unique and not
    null per cycle), for every cycle, plus the declared types."""
    suites = load_suites()
    assert {s.table for s in suites} == {f"intermediate.{t}" for t in QA_TABLES}
    with Warehouse(built.settings.warehouse).connect(read_only=True) as con:
        for suite in suites:
            types = dict(
                con.query(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [suite.schema, suite.table_name],
                )
            )
            for column, kind in suite.columns.items():
                assert types[column] in DUCKDB_TYPES[kind], (suite.table, column, types[column])
            check_table(con, suite)
            for cycle_id in CYCLES:
                frame = read_check_table(con, suite, cycle_id)
                assert len(frame) > 0, (suite.table, cycle_id)


def test_expected_returns_are_the_return_status(built: BuiltWarehouse) -> None:
    qa = read(built.settings, "select * from intermediate.int_returns_checked")
    status = read(built.settings, "select * from marts.fct_return_status")
    merged = qa.merge(
        status,
        on=["cycle", "reporter_code"],
        how="outer",
        validate="one_to_one",
        indicator=True,
        suffixes=("", "_status"),
    )
    assert (merged["_merge"] == "both").all()
    assert (merged["is_received"] == merged["received"]).all()
    assert (merged["due_date"] == merged["deadline"]).all()
    received = merged[merged["received"]]
    assert (received["is_on_time"] == received["on_time"]).all()
    assert (received["submitted_on"] == received["first_delivered_on"]).all()
    missing = merged[~merged["received"]]
    assert missing["is_on_time"].isna().all() and missing["submitted_on"].isna().all()
    # the generator's late returns are late, its missing ones missing
    by_reporter = qa.set_index(["cycle", "reporter_code"])
    for planted in built.generated.planted:
        row = by_reporter.loc[(planted.cycle, planted.reporter_code)]
        if planted.kind == "late":
            assert row["is_received"] and not row["is_on_time"], planted
        elif planted.kind in ("missing", "invalid_file"):
            assert not row["is_received"], planted


def test_element_checks_hold_each_received_returns_figures(built: BuiltWarehouse) -> None:
    """One row per received return x commune it covers x element of its role, with exactly the
    figure its loaded file carries: null (never 0) for a blank or a refused row."""
    ref = reference()
    communes = read(
        built.settings,
        "select cycle, hierarchy, unit_code from intermediate.int_communes_expected",
    )
    in_scope = {cycle: set(group["unit_code"]) for cycle, group in communes.groupby("cycle")}
    hierarchy = dict(zip(communes["cycle"], communes["hierarchy"], strict=False))
    received = read(
        built.settings,
        "select cycle, reporter_code from marts.fct_return_status where received",
    )
    figures = loaded_figures(built.settings).set_index(
        ["cycle", "reporter_code", "unit_code", "element_code"]
    )["value"]
    expected = []
    for cycle_id, reporter_code in received.itertuples(index=False):
        reporter = ref.reporter(reporter_code, hierarchy[cycle_id])
        assert reporter is not None
        for unit in sorted(reporter.communes & in_scope[cycle_id]):
            for element in ref.elements_by_role[reporter.role]:
                key = (cycle_id, reporter_code, unit, element)
                expected.append((*key, figures.get(key)))
    expected_frame = pd.DataFrame(
        expected, columns=["cycle", "reporter_code", "unit_code", "element_code", "value"]
    )
    actual = read(
        built.settings,
        "select cycle, reporter_code, unit_code, element_code, value"
        " from intermediate.int_element_values_checked",
    )
    assert_close(actual, expected_frame, QA_TABLES["int_element_values_checked"], ["value"])
    # every planted blank is a null in its reporter's rows
    blanks = [p for p in built.generated.planted if p.kind == "blank"]
    assert blanks
    indexed = actual.set_index(QA_TABLES["int_element_values_checked"])["value"]
    for planted in blanks:
        for finding in planted.expected_findings:
            key = (
                planted.cycle,
                planted.reporter_code,
                finding["unit_code"],
                finding["element_code"],
            )
            assert pd.isna(indexed.loc[key]), key


def test_over_time_measures_follow_the_readme(built: BuiltWarehouse) -> None:
    actual = read(
        built.settings,
        f"select cycle, unit_code, element_code, value, {', '.join(HISTORY_COLUMNS)} "
        "from intermediate.int_element_values_checked",
    )
    expected = expected_history(built.settings)
    expected = expected.merge(actual[["cycle", "unit_code", "element_code"]].drop_duplicates())
    assert_close(
        actual, expected, ["cycle", "unit_code", "element_code"], ["value", *HISTORY_COLUMNS]
    )
    # 2024-Y has two earlier annual cycles; 2025-Y's history is its predecessors' three,
    # carried across the reform, and says so
    cycles = actual.groupby("cycle")["history_cycles"].max()
    assert cycles["2024-Y"] == 2 and cycles["2023-H1"] == 0 and cycles["2025-Y"] == 3
    carried = actual.groupby("cycle")["history_is_carried"].any()
    assert carried["2025-Y"] and not carried.drop("2025-Y").any()


def test_indicator_checks_pair_each_communes_parts(built: BuiltWarehouse) -> None:
    ref = reference()
    measures = [
        i for i in ref.indicators.values() if i.denominator and not i.denominator.startswith("@")
    ]
    assert len(measures) == 31
    checks = read(built.settings, "select * from intermediate.int_indicator_values_checked")
    values = read(
        built.settings,
        "select cycle, unit_code, element_code, value from marts.fct_element_values "
        "where unit_level = 'commune'",
    ).set_index(["cycle", "unit_code", "element_code"])["value"]
    communes = read(
        built.settings, "select cycle, unit_code from intermediate.int_communes_expected"
    )
    assert len(checks) == len(communes) * 31
    factor = {i.code: i.factor for i in measures}
    for row in checks.sample(n=2000, random_state=1).itertuples(index=False):
        numerator = values.loc[(row.cycle, row.unit_code, row.numerator_element)]
        denominator = values.loc[(row.cycle, row.unit_code, row.denominator_element)]
        assert (pd.isna(row.numerator), pd.isna(row.denominator)) == (
            pd.isna(numerator),
            pd.isna(denominator),
        )
        if pd.isna(numerator) or pd.isna(denominator) or denominator == 0:
            assert pd.isna(row.value)
        else:
            assert row.value == pytest.approx(numerator / denominator * factor[row.indicator_code])
        role = ref.elements[row.numerator_element].reported_by
        assert row.reporter_code == row.numerator_reporter_code
        if role == "commune":
            assert row.reporter_code == row.unit_code
        else:
            agency_unit = row.district_code if row.hierarchy == "pre_reform" else row.province_code
            assert row.reporter_code == f"{agency_unit}-{role}"


def test_commune_checks_put_every_element_side_by_side(built: BuiltWarehouse) -> None:
    ref = reference()
    checks = read(built.settings, "select * from intermediate.int_communes_checked")
    assert set(ref.elements) <= set(checks.columns)
    values = read(
        built.settings,
        "select cycle, unit_code, element_code, value from marts.fct_element_values "
        "where unit_level = 'commune'",
    )
    wide = values.pivot(index=["cycle", "unit_code"], columns="element_code", values="value")
    indexed = checks.set_index(["cycle", "unit_code"]).loc[wide.index]
    assert len(indexed) == len(checks)
    for element in ref.elements:
        left = indexed[element].astype(float)
        right = wide[element].astype(float)
        assert ((left == right) | (left.isna() & right.isna())).all(), element
    weighed, under5 = indexed["u5_weighed"], indexed["pop_under5"]
    ratio = weighed / under5.clip(lower=1)
    assert ((indexed["u5_weighed_per_pop_under5"] - ratio).abs().fillna(0) < 1e-9).all()
    # a missing agency return leaves its communes' figures null, not 0
    missing_health = [
        p
        for p in built.generated.planted
        if p.kind == "missing" and p.reporter_code.endswith("-health")
    ]
    assert missing_health
    for planted in missing_health:
        rows = checks[
            (checks["cycle"] == planted.cycle)
            & (checks["health_reporter_code"] == planted.reporter_code)
        ]
        assert len(rows) > 0 and rows["live_births"].isna().all(), planted


def test_quality_issues_is_empty_before_validation(built: BuiltWarehouse) -> None:
    issues = read(built.settings, "select * from marts.fct_quality_issues")
    assert issues.empty
    for column in (
        "finding_key",
        "rule_id",
        "unit_name_vi",
        "district_name_vi",
        "element_name_vi",
        "indicator_name_en",
        "message_vi",
    ):
        assert column in issues.columns


def snapshot(built: BuiltWarehouse) -> dict[str, pd.DataFrame]:
    return {
        name: read(built.settings, f"select * from intermediate.{name} order by {', '.join(key)}")
        for name, key in QA_TABLES.items()
    }


def test_rebuilding_a_cycle_gives_identical_tables(built_copy: BuiltWarehouse) -> None:
    before = snapshot(built_copy)
    run_transform(built_copy.settings, Cycle.parse("2023-Y"), whole_cycle=True)
    after = snapshot(built_copy)
    for name in QA_TABLES:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def late_return(built: BuiltWarehouse, cycle_id: str, province: str | None = None) -> str:
    """A planted missing commune of the cycle (of `province`, when given) sends a neighbour's
    figures, late."""
    settings, generated = built.settings, built.generated
    hierarchy = Cycle.parse(cycle_id).hierarchy
    missing = sorted(
        p.reporter_code
        for p in generated.planted
        if p.cycle == cycle_id
        and p.kind == "missing"
        and p.reporter_code.isdigit()
        and (province is None or province_of(hierarchy, p.reporter_code) == province)
    )
    assert missing
    late = missing[0]
    folder = settings.inbox / cycle_id
    donor = next(
        p for p in sorted(folder.glob("*.csv")) if p.name[:5].isdigit() and p.name[:5] != late
    )
    with donor.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = ["cycle", "reporter_code", "unit_code", "element_code", "value", "submitted_on"]
    with (folder / f"{late}_late.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **{k: row[k] for k in fields},
                    "reporter_code": late,
                    "unit_code": "",
                    "submitted_on": f"{int(cycle_id[:4]) + 1}-01-20",
                }
            )
    assert ingest_cycle(settings, Cycle.parse(cycle_id)).loaded == 1
    return late


def province_of(hierarchy: str, commune: str) -> str | None:
    unit = reference().commune(hierarchy, commune)
    return unit.province_code if unit else None


def test_a_late_return_rebuilds_the_history_of_later_cycles(
    built_copy: BuiltWarehouse,
) -> None:
    """2022-Y's late return is in the history of 2023-Y and 2024-Y: `cycle transform 2022-Y`
    rebuilds 2022-Y and 2023-Y, and the history tables the later 2024-Y too."""
    settings = built_copy.settings
    late = late_return(built_copy, "2022-Y")

    def history_cycles() -> dict[str, int]:
        frame = read(
            settings,
            "select cycle, history_cycles from intermediate.int_element_values_checked "
            f"where unit_code = '{late}' and element_code = 'pop_children'",
        )
        return dict(zip(frame["cycle"], frame["history_cycles"], strict=True))

    before = history_cycles()
    untouched = read(
        settings,
        "select * from intermediate.int_element_values_checked where cycle = '2023-H1' "
        "order by reporter_code, unit_code, element_code",
    )

    summary = run_transform(settings, Cycle.parse("2022-Y"))

    assert summary.cycles_rebuilt == ["2022-Y", "2023-Y"]
    after = history_cycles()
    assert after["2022-Y"] == 0
    assert after["2023-Y"] == before.get("2023-Y", 0) + 1
    assert after["2024-Y"] == before.get("2024-Y", 0) + 1  # not in the cycles passed to dbt
    actual = read(
        settings,
        f"select cycle, unit_code, element_code, value, {', '.join(HISTORY_COLUMNS)} "
        "from intermediate.int_element_values_checked",
    )
    expected = expected_history(settings).merge(
        actual[["cycle", "unit_code", "element_code"]].drop_duplicates()
    )
    assert_close(
        actual, expected, ["cycle", "unit_code", "element_code"], ["value", *HISTORY_COLUMNS]
    )
    pd.testing.assert_frame_equal(
        untouched,
        read(
            settings,
            "select * from intermediate.int_element_values_checked where cycle = '2023-H1' "
            "order by reporter_code, unit_code, element_code",
        ),
    )
