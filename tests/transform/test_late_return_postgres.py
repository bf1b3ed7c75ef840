"""Issue 11 item 1: on PostgreSQL, a late return's province rebuild keeps every relation in
place (no table swapped, no dependent view dropped) and leaves every table and view what a
whole rebuild of the cycle leaves. Issue 15 on PostgreSQL: the late return's district was
approved before it came; the audit row and the revision copied stay, and the revision shows
pending."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from core.warehouse import Warehouse
from cycle import signoff
from cycle.transform import run_transform
from expectations import run_validation
from tests.transform.conftest import (
    STATE_RELATIONS,
    BuiltWarehouse,
    built_on_postgres,
    read,
)
from tests.transform.test_quality_tables import late_return
from tests.transform.test_signoff_rules import clear_blockers_of

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("transform")]

SCHEMAS = ("staging", "intermediate", "marts")


def relations(warehouse: str) -> dict[str, tuple[str, int]]:
    """Every table and view of the built schemas: its kind and its PostgreSQL oid (a relation
    dropped and created again gets a new oid)."""
    with Warehouse(warehouse).connect() as con:
        rows = con.query(
            "select n.nspname || '.' || c.relname, c.relkind, c.oid::bigint from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname in ('staging', 'intermediate', 'marts') and c.relkind in ('r', 'v')"
        )
    return {str(name): (str(kind), int(oid)) for name, kind, oid in rows}


def contents(built: BuiltWarehouse, names: list[str]) -> dict[str, pd.DataFrame]:
    """Each relation's rows, in a stable order (every column, as text)."""
    out = {}
    for name in names:
        frame = read(built.settings, f"select * from {name}")
        frame = frame.astype(str).sort_values(list(frame.columns), ignore_index=True)
        out[name] = frame
    return out


def test_a_late_return_keeps_every_relation_and_equals_a_whole_rebuild(
    built: BuiltWarehouse, postgres_url: str, tmp_path: Path
) -> None:
    on_pg = built_on_postgres(built, postgres_url, tmp_path)
    settings = on_pg.settings
    findings = sum(c.findings for c in run_validation(settings, Cycle.parse("2023-Y")).counts)
    assert findings > 0
    before = relations(postgres_url)
    assert "marts.fct_quality_issues" in before
    issues = read(settings, "select count(*) as n from marts.fct_quality_issues")["n"][0]
    district = approve_the_late_district(on_pg)

    late_return(on_pg, "2023-Y")
    summary = run_transform(settings, Cycle.parse("2023-Y"))
    unit = {u.unit_code: u for u in signoff.unit_signoffs(settings, Cycle.parse("2023-Y"))}
    assert unit[district].pending_revision and unit[district].revision == 1

    assert summary.provinces_rebuilt is not None  # the late-return path, not a whole build
    assert relations(postgres_url) == before  # every relation in place, none replaced
    # the figures, not the steps' ledger (each build records its own time)
    names = sorted(n for n in before if n not in STATE_RELATIONS)
    scoped = contents(on_pg, names)
    assert len(scoped["marts.fct_quality_issues"]) == issues > 0  # every finding still there

    run_transform(settings, Cycle.parse("2023-Y"), whole_cycle=True)

    # a whole build replaces the views in place too (macros/materializations/view_in_place.sql):
    # no view is dropped and created again, so none goes missing while the build runs
    assert relations(postgres_url) == before
    whole = contents(on_pg, names)
    for name in names:
        pd.testing.assert_frame_equal(scoped[name], whole[name], obj=name)


def approve_the_late_district(on_pg: BuiltWarehouse) -> str:
    """Approve the district of 2023-Y's planted missing commune (the late return to come):
    the audit row and revision 1, copied inside PostgreSQL, hold exactly the marts' rows."""
    settings, cycle = on_pg.settings, Cycle.parse("2023-Y")
    late = sorted(
        p.reporter_code
        for p in on_pg.generated.planted
        if p.cycle == cycle.id and p.kind == "missing" and p.reporter_code.isdigit()
    )[0]
    (district,) = read(
        settings,
        "select district_code from marts.fct_return_status "
        f"where cycle = '{cycle.id}' and reporter_code = '{late}'",
    ).district_code
    clear_blockers_of(settings, cycle, district)
    approved = signoff.approve(settings, cycle, district, by="Nguyễn Văn A", via="airflow")
    assert (approved.state, approved.revision, approved.pending_revision) == ("approved", 1, False)
    scope = f"cycle = '{cycle.id}' and district_code = '{district}'"
    for mart, table in (
        ("fct_indicator_values", "approved_indicator_values"),
        ("fct_return_status", "approved_return_status"),
        ("fct_reporting_rates", "approved_reporting_rates"),
        ("fct_quality_issues", "approved_quality_issues"),
    ):
        columns = "unit_code, cycle" if mart != "fct_return_status" else "reporter_code, cycle"
        now = read(settings, f"select {columns} from marts.{mart} where {scope}")
        signed = read(
            settings,
            f"select {columns} from ops.{table} where {scope} and revision = 1 "
            f"and signed_unit_code = '{district}'",
        )
        assert len(signed) == len(now), table
    figures = read(
        settings,
        "select count(*) as n from marts.fct_indicator_values as m join "
        "ops.approved_indicator_values as a on a.cycle = m.cycle and a.unit_level = m.unit_level "
        "and a.unit_code = m.unit_code and a.indicator_code = m.indicator_code "
        f"where a.signed_unit_code = '{district}' and m.value is not distinct from a.value",
    )
    assert figures["n"][0] == len(
        read(settings, f"select 1 from marts.fct_indicator_values where {scope}")
    )
    trail = read(
        settings, "select action, unit_code, actor, via, revision from ops.signoff_actions"
    )
    assert ("approve", district, "Nguyễn Văn A", "airflow", 1) in {
        tuple(r) for r in trail.itertuples(index=False)
    }
    assert set(trail.action) <= {"approve", "waive", "accept"}
    return str(district)
