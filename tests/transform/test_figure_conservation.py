"""Issue 11 item 11: every figure that reaches the raw layer either is a commune's value in
marts.fct_element_values or is listed, with its reason, in marts.fct_figures_not_counted; on
both backends, over every cycle of the test inbox."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from core.settings import Settings
from cycle.transform import run_transform
from ingest.pipeline import ingest_cycle
from tests.transform.conftest import CYCLES, BuiltWarehouse, read, settings_under

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

FILES = """
-- figures are stored once per content; the same bytes again are `duplicate` records
select
    cycle, file_sha256,
    case min(case status when 'loaded' then 1 when 'superseded' then 2 when 'rejected' then 3
        else 4 end)
        when 1 then 'loaded' when 2 then 'superseded' when 3 then 'rejected' else 'duplicate'
    end as status
from raw.received_files
group by cycle, file_sha256
"""
KEY = ["cycle", "unit_code", "element_code"]
FIGURE = ["cycle", "file_sha256", "unit_code", "element_code"]


def assert_figures_conserved(settings: Settings) -> Counter[str]:
    """Every raw figure is counted once with its value or listed with a reason (never both);
    the commune-level mart holds no value that no raw figure gave. Returns the reasons.
    Joined here, in pandas, not in SQL: the check must not trust the SQL it checks."""
    raw = read(settings, f"select {', '.join(FIGURE)}, value from raw.return_values")
    assert len(raw) > 0
    files = read(settings, FILES)
    communes = read(
        settings,
        f"select {', '.join(KEY)}, value as counted_value from marts.fct_element_values"
        " where unit_level = 'commune'",
    )
    listed = read(
        settings, f"select {', '.join(FIGURE)}, reason_code from marts.fct_figures_not_counted"
    )
    figures = raw.merge(files, on=["cycle", "file_sha256"], how="left", validate="many_to_one")
    figures = figures.merge(communes, on=KEY, how="left", validate="many_to_one", indicator=True)
    figures = figures.merge(listed, on=FIGURE, how="outer", validate="one_to_one")
    assert len(figures) == len(raw)  # nothing listed that was not received
    is_listed = figures["reason_code"].notna()
    counted = figures[~is_listed]
    assert (counted["status"] == "loaded").all(), counted[counted["status"] != "loaded"].head()
    wrong = counted[(counted["_merge"] != "both") | (counted["value"] != counted["counted_value"])]
    assert wrong.empty, f"figures dropped or changed without a reason:\n{wrong.head(10)}"
    not_loaded = figures[figures["status"] != "loaded"]
    assert (not_loaded["reason_code"] == not_loaded["status"]).all()
    # and nothing else: the communes' values are exactly the figures counted
    in_mart = communes[communes["counted_value"].notna()].groupby("cycle").size()
    assert in_mart.to_dict() == counted.groupby("cycle").size().to_dict()
    return Counter(figures.loc[is_listed, "reason_code"])


def test_every_figure_reaches_the_mart_or_has_a_reason_duckdb(built: BuiltWarehouse) -> None:
    reasons = assert_figures_conserved(built.settings)
    cycles = set(read(built.settings, "select distinct cycle from raw.return_values")["cycle"])
    assert cycles == set(CYCLES)
    assert reasons["superseded"] > 0  # the inbox's planted later returns


@pytest.mark.postgres
def test_every_figure_reaches_the_mart_or_has_a_reason_postgres(
    built: BuiltWarehouse, postgres_url: str, tmp_path: Path
) -> None:
    """Same inbox on PostgreSQL, its scope narrowed to Lai Châu before the reform: Đồng Tháp's
    pre-reform figures are loaded but listed as outside the scope."""
    settings = settings_under(tmp_path, warehouse=postgres_url)
    shutil.copytree(built.settings.inbox, settings.inbox)
    scope = pd.read_csv(settings.inbox / "scope.csv", dtype=str)
    assert ((scope["hierarchy"] == "pre_reform") & (scope["unit_code"] == "87")).any()
    scope = scope[~((scope["hierarchy"] == "pre_reform") & (scope["unit_code"] == "87"))]
    scope.to_csv(settings.inbox / "scope.csv", index=False)
    for cycle_id in CYCLES:
        ingest_cycle(settings, Cycle.parse(cycle_id))
    run_transform(settings, Cycle.parse(CYCLES[-1]))
    reasons = assert_figures_conserved(settings)
    assert reasons["out_of_scope"] > 0 and reasons["superseded"] > 0
    outside = read(
        settings,
        "select distinct listed.cycle, units.province_code, listed.reason_en"
        " from marts.fct_figures_not_counted as listed"
        " inner join marts.dim_admin_units as units"
        "   on units.hierarchy = listed.hierarchy and units.unit_level = 'commune'"
        "   and units.unit_code = listed.unit_code"
        " where listed.reason_code = 'out_of_scope'",
    )
    assert set(outside["province_code"]) == {"87"}
    assert "2025-Y" not in set(outside["cycle"])  # the successors are still in scope
    assert outside["reason_en"].str.contains("scope.csv").all()
