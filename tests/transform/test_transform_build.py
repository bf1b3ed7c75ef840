"""The dbt build on DuckDB (issue 3): it passes, with its data and unit tests, on a generated
inbox of two provinces, and the marts hold what the domain rules say."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.calendar import deadline
from core.cycles import Cycle
from core.reference import reference
from cycle.transform import TransformError, docs, run_transform
from tests.transform.conftest import CYCLES, BuiltWarehouse, read

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

MARTS = (
    "dim_admin_units",
    "dim_indicators",
    "dim_data_elements",
    "fct_element_values",
    "fct_indicator_values",
    "fct_indicator_series",
    "fct_return_status",
    "fct_reporting_rates",
)


def test_build_passes_with_every_test(built: BuiltWarehouse) -> None:
    summary = built.summary
    # 38 before issue 14, + national targets 1, carried across the reform 5, sign-off 7
    assert summary.models_built == 51
    assert summary.seeds_loaded == 8
    assert summary.unit_tests_passed == 18
    assert summary.tests_passed >= 80
    assert summary.cycles_rebuilt == [] and summary.full_refresh


def test_marts_are_where_analysts_look(built: BuiltWarehouse) -> None:
    # dbt's connections are closed: the file opens read-only in this same process
    con = duckdb.connect(built.settings.warehouse, read_only=True)
    try:
        schemas = dict(
            con.execute(
                "select table_name, table_schema from information_schema.tables "
                "where table_schema in ('marts', 'reference', 'staging', 'intermediate')"
            ).fetchall()
        )
    finally:
        con.close()
    for mart in MARTS:
        assert schemas.get(mart) == "marts", mart
    assert schemas["admin_units"] == "reference"
    assert schemas["stg_raw__return_values"] == "staging"
    codes = read(
        built.settings,
        "select unit_code from marts.dim_admin_units "
        "where hierarchy = 'pre_reform' and unit_level = 'district' "
        "and unit_code in ('047', '106')",
    )
    assert sorted(codes["unit_code"]) == ["047", "106"]  # leading zeros kept


def test_expected_reporters_are_the_generators(built: BuiltWarehouse) -> None:
    status = read(built.settings, "select cycle, reporter_code from marts.fct_return_status")
    for cycle_id in CYCLES:
        got = sorted(status.loc[status["cycle"] == cycle_id, "reporter_code"])
        assert got == sorted(built.generated.expected_reporters[cycle_id]), cycle_id


def test_return_status_follows_the_calendar(built: BuiltWarehouse) -> None:
    status = read(
        built.settings,
        """
        select cycle, reporter_code, district_code, received, on_time, deadline,
               first_delivered_on, superseded_count
        from marts.fct_return_status""",
    )
    for row in status.itertuples():
        district = row.district_code if isinstance(row.district_code, str) else None
        assert pd.Timestamp(row.deadline).date() == deadline(Cycle.parse(row.cycle), district), row
    # Tam Đường (district 106, Lai Châu) sets 15 June and 10 December
    tam_duong = status[(status["district_code"] == "106") & (status["cycle"] == "2023-Y")]
    assert not tam_duong.empty
    assert {pd.Timestamp(d).date().isoformat() for d in tam_duong["deadline"]} == {"2023-12-10"}
    planted = {(p.cycle, p.kind, p.reporter_code) for p in built.generated.planted}
    by_reporter = status.set_index(["cycle", "reporter_code"])
    for cycle_id, kind, reporter in planted:
        row = by_reporter.loc[(cycle_id, reporter)]
        if kind == "missing":
            assert not row["received"] and not row["on_time"], (cycle_id, reporter)
        elif kind == "late":
            assert row["received"] and not row["on_time"], (cycle_id, reporter)
        elif kind == "superseded":
            assert row["superseded_count"] >= 1, (cycle_id, reporter)


def test_reporting_rates_count_the_return_status(built: BuiltWarehouse) -> None:
    rates = read(built.settings, "select * from marts.fct_reporting_rates")
    status = read(built.settings, "select * from marts.fct_return_status")
    for (cycle_id, kind), group in status.groupby(["cycle", "reporter_kind"]):
        for province, rows in group.groupby("province_code"):
            row = rates[
                (rates["cycle"] == cycle_id)
                & (rates["unit_level"] == "province")
                & (rates["unit_code"] == province)
                & (rates["reporter_kind"] == kind)
            ]
            assert len(row) == 1
            assert row["expected_returns"].iloc[0] == len(rows)
            assert row["received_returns"].iloc[0] == rows["received"].sum()
            assert row["reporting_rate"].iloc[0] == pytest.approx(
                100 * rows["received"].sum() / len(rows)
            )
        # the country counts every return of the cycle
        country = rates[
            (rates["cycle"] == cycle_id)
            & (rates["unit_level"] == "country")
            & (rates["reporter_kind"] == kind)
        ]
        assert country[
            ["expected_returns", "received_returns", "on_time_returns"]
        ].values.tolist() == [[len(group), group["received"].sum(), group["on_time"].sum()]]
    assert set(rates.loc[rates["cycle"] == "2025-Y", "unit_level"]) == {"province", "country"}
    assert set(rates.loc[rates["cycle"] == "2024-Y", "unit_level"]) == {
        "district",
        "province",
        "country",
    }


def test_element_values_never_invent_a_figure(built: BuiltWarehouse) -> None:
    values = read(
        built.settings,
        """
        select cycle, unit_level, unit_code, element_code, value, communes_reported,
               communes_in_force
        from marts.fct_element_values""",
    )
    communes = values[values["unit_level"] == "commune"]
    assert communes["value"].isna().any()  # missing returns stay missing
    assert ((communes["communes_reported"] == 1) == communes["value"].notna()).all()
    rolled = values[values["unit_level"] != "commune"]
    assert (rolled["value"].isna() == (rolled["communes_reported"] == 0)).all()
    assert set(values.loc[values["cycle"] == "2025-Y", "unit_level"]) == {"commune", "province"}


def test_targets_apply_to_the_plans_district_and_communes(built: BuiltWarehouse) -> None:
    values = read(
        built.settings,
        """
        select cycle, unit_level, unit_code, district_code, indicator_code, target_status,
               target_source, plan_id, target_year, target_scope, previous_value
        from marts.fct_indicator_values""",
    )
    planned = values[values["plan_id"].notna()]
    assert (planned["target_source"] == "plan").all() and (planned["target_year"] == 2023).all()
    assert set(planned["plan_id"]) == {"thanhbinh-2023"}
    assert set(planned["cycle"]) == {"2023-H1", "2023-Y"}
    assert set(planned["district_code"]) == {"874"}
    assert set(planned.loc[planned["cycle"] == "2023-H1", "target_status"]) == {"interim"}
    assert set(planned.loc[planned["cycle"] == "2023-Y", "target_status"]) <= {
        "met",
        "not_met",
        "unknown",
    }
    # elsewhere the national 2025 milestone, but for the indicators it sets no 2025 figure for
    others = values[values["plan_id"].isna()]
    untargeted = others[others["target_status"] == "no_target"]
    assert set(untargeted["indicator_code"]) == {"CT05b", "CT06"}
    assert untargeted["target_source"].isna().all()
    national = others[others["target_status"] != "no_target"]
    assert (national["target_source"] == "national").all()
    assert (national["target_year"] == 2025).all()
    assert set(national["unit_level"]) == {"commune", "district", "province", "country"}
    # Thanh Bình's communes keep their plan's targets: none is judged against the nation's
    assert national.loc[national["cycle"].str.startswith("2023"), "district_code"].ne("874").all()
    ct04c = planned[(planned["indicator_code"] == "CT04c") & (planned["cycle"] == "2023-Y")]
    assert set(ct04c.loc[ct04c["unit_level"] == "district", "target_scope"]) == {"rural, urban"}
    assert set(ct04c.loc[ct04c["unit_level"] == "commune", "target_scope"]) == {"rural", "urban"}
    # codes mean other units after the reform: a unit is compared with the previous cycle
    # carried onto it (the country is the same unit on both sides)
    after = values[values["cycle"] == "2025-Y"]
    for level in ("commune", "province", "country"):
        assert after.loc[after["unit_level"] == level, "previous_value"].notna().any(), level
    assert values.loc[values["cycle"] == "2024-Y", "previous_value"].notna().any()


def test_a_failing_data_test_is_named(built_copy: BuiltWarehouse) -> None:
    with duckdb.connect(built_copy.settings.warehouse) as con:
        con.execute("insert into raw.reporting_scope values ('before_reform', '12')")
    with pytest.raises(TransformError) as raised:
        run_transform(built_copy.settings, Cycle.parse("2024-Y"))
    failed = {f.name for f in raised.value.failures}
    assert any(name.startswith("relationships_stg_raw__scope_units_hierarchy") for name in failed)
    assert "dbt build failed" in str(raised.value)


def test_docs_for_analysts(built: BuiltWarehouse, tmp_path: Path) -> None:
    folder = docs(built.settings, tmp_path / "docs")
    page = (folder / "static_index.html").read_text(encoding="utf-8")
    assert "fct_indicator_values" in page and "communes_included" in page
    catalog = json.loads((folder / "catalog.json").read_text(encoding="utf-8"))
    assert "model.child_programme.fct_indicator_values" in catalog["nodes"]


def test_reference_codes_match_the_seeds(built: BuiltWarehouse) -> None:
    ref = reference()
    indicators = read(built.settings, "select * from marts.dim_indicators")
    assert sorted(indicators["indicator_code"]) == sorted(ref.indicators)
    row = indicators.set_index("indicator_code").loc["CT01"]
    assert (row["denominator"], row["aggregation"]) == ("@communes", "share_of_communes")
    assert pd.isna(indicators.set_index("indicator_code").loc["CT13", "denominator"])


def test_the_country_carried_across_the_reform_is_its_rows_as_reported(
    built: BuiltWarehouse,
) -> None:
    """The country is the same unit in both hierarchies: its carried rows (summed from the
    carried provinces) are its as-reported ones; today's provinces carry every old commune."""
    both = read(
        built.settings,
        """
        select c.cycle, c.indicator_code, c.value as carried, v.value as reported,
               c.communes_included as carried_included, v.communes_included as reported_included,
               c.communes_in_force as carried_in_force, v.communes_in_force as reported_in_force
        from marts.fct_indicator_values_carried c
        join marts.fct_indicator_values v
          on v.cycle = c.cycle and v.unit_level = c.unit_level
         and v.unit_code = c.unit_code and v.indicator_code = c.indicator_code
        where c.unit_level = 'country'""",
    )
    assert set(both["cycle"]) == {"2022-Y", "2023-H1", "2023-Y", "2024-Y"}
    assert ((both["carried"] - both["reported"]).abs().fillna(0) < 1e-9).all()
    assert (both["carried"].isna() == both["reported"].isna()).all()
    assert (both["carried_included"] == both["reported_included"]).all()
    assert (both["carried_in_force"] == both["reported_in_force"]).all()
