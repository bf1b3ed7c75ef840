"""core.ledger on both warehouses: an entry replaces the item's last one unless appended,
forgotten items go, a reset forgets a step, and the last entry per item is what `recorded` reads."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from core import ledger
from core.ledger import Entry
from core.warehouse import Warehouse


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return str(tmp_path / "warehouse.duckdb")
    return str(request.getfixturevalue("postgres_url"))


def at(minute: int) -> datetime:
    return datetime(2026, 12, 4, 10, minute)


def test_entries_replace_append_forget_and_reset(warehouse: str) -> None:
    with Warehouse(warehouse).connect() as con:
        assert ledger.recorded(con, "validate", "2024-Y") == {}  # no ledger yet: nothing done
        ledger.record(con, "validate", "2024-Y", [Entry("province/12", "a", recorded_at=at(1))])
        ledger.record(con, "validate", "2024-Y", [Entry("province/87", "b", recorded_at=at(2))])
        ledger.record(con, "validate", "2024-Y", [Entry("province/12", "c", recorded_at=at(3))])
        ledger.record(con, "validate", "2025-Y", [Entry("province/12", "d", recorded_at=at(4))])
        last = ledger.recorded(con, "validate", "2024-Y")
        assert {item: e.digest for item, e in last.items()} == {
            "province/12": "c",
            "province/87": "b",
        }
        assert con.query("select count(*) from ops.step_ledger")[0][0] == 3  # replaced, not added

        ledger.record(con, "validate", "2024-Y", [], forget=["province/87"])
        assert list(ledger.recorded(con, "validate", "2024-Y")) == ["province/12"]

        sent = {"subject": "Cảnh báo", "finding_count": 2}
        for entry in (
            Entry("049", "f1", "failed", sent, at(5)),
            Entry("049", "f1", "sent", sent, at(6)),
            Entry("049", "f2", "dry_run", {}, at(7)),
        ):
            ledger.record(con, "alert", "2024-Y", [entry], append=True)
        assert ledger.recorded(con, "alert", "2024-Y")["049"].outcome == "dry_run"
        delivered = ledger.recorded(con, "alert", "2024-Y", ("sent", "uncertain"))["049"]
        assert (delivered.digest, delivered.detail, delivered.recorded_at) == ("f1", sent, at(6))
        assert ledger.recorded(con, "alert", "2024-Y", ()) == {}

        ledger.reset(con, "validate", "2024-Y")
        assert ledger.recorded(con, "validate", "2024-Y") == {}
        assert ledger.recorded_every_cycle(con, "validate", "province/") == {
            ("2025-Y", "province/12"): Entry("province/12", "d", recorded_at=at(4))
        }


def test_a_warehouse_of_before_the_ledger_drops_what_it_replaces(tmp_path: Path) -> None:
    with Warehouse(str(tmp_path / "warehouse.duckdb")).connect() as con:
        con.execute("create schema ops")
        con.execute("create table ops.built_returns (cycle varchar)")
        ledger.ensure_ledger(con)
        assert not con.table_exists("ops", "built_returns")
        assert con.table_exists("ops", "step_ledger")
