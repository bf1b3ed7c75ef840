"""Issue 11 item 1: on PostgreSQL, a late return's province rebuild keeps every relation in
place (no table swapped, no dependent view dropped) and leaves every table and view what a
whole rebuild of the cycle leaves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from core.warehouse import Warehouse
from cycle.transform import run_transform
from expectations import run_validation
from tests.transform.conftest import (
    STATE_RELATIONS,
    BuiltWarehouse,
    built_on_postgres,
    read,
)
from tests.transform.test_quality_tables import late_return

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

    late_return(on_pg, "2023-Y")
    summary = run_transform(settings, Cycle.parse("2023-Y"))

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
