"""Rebuilding a cycle gives identical tables; a late return rebuilds its cycle (and the next
comparable one) to what a full rebuild gives."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from core.cycles import Cycle
from core.reference import reference
from cycle.transform import run_transform
from ingest.pipeline import ingest_cycle
from tests.transform.conftest import BuiltWarehouse, read
from tests.transform.recompute import (
    KEY,
    assert_same_values,
    national_statuses,
    recompute_indicator_values,
)
from tests.transform.test_quality_tables import late_return

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

FACTS = {
    "fct_element_values": ["cycle", "unit_level", "unit_code", "element_code"],
    "fct_indicator_values": ["cycle", "unit_level", "unit_code", "indicator_code"],
    "fct_return_status": ["cycle", "reporter_code"],
    "fct_reporting_rates": ["cycle", "unit_level", "unit_code", "reporter_kind"],
}


def snapshot(built: BuiltWarehouse) -> dict[str, pd.DataFrame]:
    return {
        name: read(built.settings, f"select * from marts.{name} order by {', '.join(key)}")
        for name, key in FACTS.items()
    }


def test_rebuilding_a_cycle_gives_identical_tables(built_copy: BuiltWarehouse) -> None:
    before = snapshot(built_copy)
    summary = run_transform(built_copy.settings, Cycle.parse("2023-Y"), whole_cycle=True)
    assert summary.cycles_rebuilt == ["2023-Y", "2024-Y"]
    assert summary.provinces_rebuilt is None
    after = snapshot(built_copy)
    for name in FACTS:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_a_late_return_rebuilds_its_cycle_and_the_next(built_copy: BuiltWarehouse) -> None:
    settings, generated = built_copy.settings, built_copy.generated
    missing = sorted(
        p.reporter_code
        for p in generated.planted
        if p.cycle == "2023-Y" and p.kind == "missing" and p.reporter_code.isdigit()
    )
    assert missing
    late = missing[0]
    # the late commune sends what a neighbour sent, under its own code
    folder = settings.inbox / "2023-Y"
    donor = next(
        p for p in sorted(folder.glob("*.csv")) if p.name[:5].isdigit() and p.name[:5] != late
    )
    with donor.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (folder / f"{late}_late.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle,
            fieldnames=[
                "cycle",
                "reporter_code",
                "unit_code",
                "element_code",
                "value",
                "submitted_on",
            ],
        )
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **{k: row[k] for k in writer.fieldnames},
                    "reporter_code": late,
                    "unit_code": "",
                    "submitted_on": "2024-01-20",
                }
            )
    assert ingest_cycle(settings, Cycle.parse("2023-Y")).loaded == 1
    before = read(
        settings,
        "select * from marts.fct_indicator_values where cycle = '2022-Y' "
        "order by unit_level, unit_code, indicator_code",
    )

    run_transform(settings, Cycle.parse("2023-Y"))

    status = read(
        settings,
        f"select received, on_time from marts.fct_return_status "
        f"where cycle = '2023-Y' and reporter_code = '{late}'",
    )
    assert status.to_dict("records") == [{"received": True, "on_time": False}]
    # every figure, 2023-Y's and the comparisons of 2024-Y with it, as a full rebuild gives
    expected = recompute_indicator_values(settings, generated.expected_reporters, reference())
    actual = read(
        settings,
        f"select {', '.join(KEY)}, value, communes_included, "
        "previous_value, compared_value, compared_previous_value "
        "from marts.fct_indicator_values "
        "where unit_level in ('district', 'province', 'country')",
    )
    assert_same_values(
        actual,
        expected,
        KEY,
        [
            "value",
            "communes_included",
            "previous_value",
            "compared_value",
            "compared_previous_value",
        ],
    )
    # and every target judged on them (the national milestones of the provinces and the
    # country, whose values the late commune changed)
    statuses = national_statuses(settings, generated.expected_reporters, reference())
    judged = read(
        settings,
        f"select {', '.join(KEY)}, target_status from marts.fct_indicator_values "
        "where unit_level in ('district', 'province', 'country') and target_source = 'national'",
    )
    merged = judged.merge(statuses, on=KEY, how="left", suffixes=("", "_recomputed"))
    assert len(merged) > 1000
    differing = merged[merged["target_status"] != merged["target_status_recomputed"]]
    assert differing.empty, differing.head(20).to_string()
    after = read(
        settings,
        "select * from marts.fct_indicator_values where cycle = '2022-Y' "
        "order by unit_level, unit_code, indicator_code",
    )
    pd.testing.assert_frame_equal(before, after)  # other cycles untouched


def test_a_cycle_ingested_but_never_built_is_rebuilt_too(built_copy: BuiltWarehouse) -> None:
    from core.warehouse import Warehouse
    from cycle.transform import _plan_rebuild

    def cycles_to_rebuild(warehouse: Warehouse, cycle: Cycle) -> list[str]:
        return _plan_rebuild(warehouse, cycle, full_refresh=False, whole_cycle=True).cycles

    warehouse = Warehouse(built_copy.settings.warehouse)
    assert cycles_to_rebuild(warehouse, Cycle.parse("2024-Y")) == ["2024-Y", "2025-Y"]
    with warehouse.connect() as con:
        con.execute("delete from marts.fct_return_status where cycle = '2022-Y'")
    assert cycles_to_rebuild(warehouse, Cycle.parse("2024-Y")) == [
        "2022-Y",
        "2023-Y",
        "2024-Y",
        "2025-Y",
    ]


CARRIED = (
    "intermediate.int_indicator_values_carried",
    "intermediate.int_indicator_values_rolled_up",
    "intermediate.int_element_values_history",
    "intermediate.int_element_values_checked",
    "marts.fct_indicator_values",
    "marts.fct_indicator_values_carried",
    "marts.fct_indicator_series",
)
"""What a pre-reform figure reaches across the reform: its carried rows, the next cycle's
comparisons and the over-time history of the post-reform communes."""


def test_a_late_return_before_the_reform_rebuilds_what_it_reaches_across_it(
    built_copy: BuiltWarehouse,
) -> None:
    """A late 2024-Y return in the old Đồng Tháp (87) reaches today's Đồng Tháp (82): its
    2024-Y rows carried onto 82, 2025-Y's comparisons with them and 2025-Y's history. The
    province rebuild names both codes and leaves what a whole rebuild of the cycles leaves."""
    settings = built_copy.settings
    carried_before = read(
        settings,
        "select communes_included from marts.fct_indicator_values_carried "
        "where cycle = '2024-Y' and unit_level = 'province' and unit_code = '82' "
        "and indicator_code = 'CT13'",
    )["communes_included"][0]
    late_return(built_copy, "2024-Y", province="87")

    summary = run_transform(settings, Cycle.parse("2024-Y"))

    assert summary.cycles_rebuilt == ["2024-Y", "2025-Y"]
    assert summary.provinces_rebuilt == ["82", "87"]  # the old province and its successor
    carried_after = read(
        settings,
        "select communes_included from marts.fct_indicator_values_carried "
        "where cycle = '2024-Y' and unit_level = 'province' and unit_code = '82' "
        "and indicator_code = 'CT13'",
    )["communes_included"][0]
    assert carried_after == carried_before + 1
    scoped = {name: sorted_rows(built_copy, name) for name in CARRIED}

    run_transform(settings, Cycle.parse("2024-Y"), whole_cycle=True)

    for name in CARRIED:
        pd.testing.assert_frame_equal(scoped[name], sorted_rows(built_copy, name), obj=name)


def sorted_rows(built: BuiltWarehouse, name: str) -> pd.DataFrame:
    frame = read(built.settings, f"select * from {name}")
    return frame.astype(str).sort_values(list(frame.columns), ignore_index=True)
