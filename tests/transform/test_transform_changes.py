"""A build rebuilds only what changed since the last one (cycle/transform.py): the cycles and
provinces whose returns changed, and gives exactly what a whole rebuild gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from core.warehouse import Warehouse
from cycle.transform import run_transform
from ingest.pipeline import ingest_cycle
from tests.transform.conftest import BuiltWarehouse, copy_built, read
from tests.transform.test_quality_tables import late_return

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

REBUILT_BY_PROVINCE = {
    "intermediate.int_element_values_expected": ["cycle", "unit_code", "element_code"],
    "intermediate.int_element_values_history": ["cycle", "unit_code", "element_code"],
    "intermediate.int_indicator_parts_paired": ["cycle", "unit_code", "indicator_code"],
    "intermediate.int_indicator_values_rolled_up": [
        "cycle",
        "unit_level",
        "unit_code",
        "indicator_code",
    ],
    "marts.fct_element_values": ["cycle", "unit_level", "unit_code", "element_code"],
    "marts.fct_indicator_values": ["cycle", "unit_level", "unit_code", "indicator_code"],
    "marts.fct_return_status": ["cycle", "reporter_code"],
    "marts.fct_reporting_rates": ["cycle", "unit_level", "unit_code", "reporter_kind"],
    "intermediate.int_communes_checked": ["cycle", "unit_code"],
    "intermediate.int_element_values_checked": [
        "cycle",
        "reporter_code",
        "unit_code",
        "element_code",
    ],
    "intermediate.int_returns_checked": ["cycle", "reporter_code"],
    "intermediate.int_indicator_values_checked": ["cycle", "unit_code", "indicator_code"],
}


def tables(built: BuiltWarehouse) -> dict[str, pd.DataFrame]:
    return {
        name: read(built.settings, f"select * from {name} order by {', '.join(key)}")
        for name, key in REBUILT_BY_PROVINCE.items()
    }


def test_nothing_changed_builds_nothing(built_copy: BuiltWarehouse) -> None:
    summary = run_transform(built_copy.settings, Cycle.parse("2024-Y"))
    assert summary.up_to_date and summary.models_built == 0
    assert summary.reason == "nothing changed"


def test_a_late_return_rebuilds_its_province_as_a_whole_rebuild_would(
    built_copy: BuiltWarehouse, tmp_path: Path
) -> None:
    """2022-Y's late return: 2022-Y, 2023-Y (compared with it) and the history of 2024-Y are
    rebuilt in the late commune's province only, and every table equals a whole rebuild."""
    late = late_return(built_copy, "2022-Y")
    whole = copy_built(built_copy, tmp_path / "whole")

    summary = run_transform(built_copy.settings, Cycle.parse("2022-Y"))
    run_transform(whole.settings, Cycle.parse("2022-Y"), whole_cycle=True)

    province = read(
        built_copy.settings,
        f"select province_code from marts.fct_return_status where reporter_code = '{late}' "
        "and cycle = '2022-Y'",
    )["province_code"].tolist()
    assert summary.cycles_rebuilt == ["2022-Y", "2023-Y"]
    assert summary.provinces_rebuilt == province
    assert summary.models_built < 43  # reference and views untouched
    scoped, expected = tables(built_copy), tables(whole)
    for name in REBUILT_BY_PROVINCE:
        pd.testing.assert_frame_equal(scoped[name], expected[name], obj=name)
    # and the next build has nothing left to do
    assert run_transform(built_copy.settings, Cycle.parse("2022-Y")).up_to_date


def test_a_file_without_a_reporter_changes_no_figure(built_copy: BuiltWarehouse) -> None:
    folder = built_copy.settings.inbox / "2024-Y"
    (folder / "unreadable.csv").write_bytes(b"\x00\x01 not a return")
    assert ingest_cycle(built_copy.settings, Cycle.parse("2024-Y")).rejected == 1

    summary = run_transform(built_copy.settings, Cycle.parse("2024-Y"))

    assert summary.up_to_date and summary.reason == "no figure changed"
    assert run_transform(built_copy.settings, Cycle.parse("2024-Y")).reason == "nothing changed"


def test_changed_models_rebuild_whole_cycles(
    built_copy: BuiltWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cycle.transform._project_digest", lambda: "another version")
    summary = run_transform(built_copy.settings, Cycle.parse("2024-Y"))
    assert summary.cycles_rebuilt == ["2024-Y", "2025-Y"]
    assert summary.provinces_rebuilt is None and summary.models_built == 43
    assert summary.reason == "models or reporting scope changed"


def test_a_failed_build_is_retried_by_the_next(
    built_copy: BuiltWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger moves only when a build succeeds: a late return whose build failed is
    rebuilt by the next run even though ingest has nothing new."""
    late_return(built_copy, "2023-Y")
    with Warehouse(built_copy.settings.warehouse).connect() as con:
        before = con.query("select count(*) from ops.step_ledger")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("dbt died")

    monkeypatch.setattr("cycle.transform._invoke", broken)
    with pytest.raises(RuntimeError):
        run_transform(built_copy.settings, Cycle.parse("2023-Y"))
    monkeypatch.undo()
    with Warehouse(built_copy.settings.warehouse).connect() as con:
        assert con.query("select count(*) from ops.step_ledger") == before

    summary = run_transform(built_copy.settings, Cycle.parse("2023-Y"))
    assert summary.cycles_rebuilt == ["2023-Y", "2024-Y"] and summary.models_built > 0
