"""A locked cycle (issue 15) refuses new returns: each is archived and recorded `rejected` with
the reason `cycle_locked`, nothing of it is used, and once the cycle is unlocked the next ingest
takes it as any other return."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from core.signoffs import COUNTRY, Action, record_actions
from core.warehouse import Warehouse
from ingest.pipeline import ingest_cycle, pending_files
from tests.ingest.test_pipeline import CYCLE, commune_return, current_values, tables


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(base=tmp_path)


def signoff(settings: Settings, action: str) -> None:
    """The lock or unlock as `cycle lock` records it (its own rules are tested elsewhere)."""
    with Warehouse(settings.warehouse).connect() as con, con.transaction():
        record_actions(con, [Action(CYCLE.id, *COUNTRY, action, "Trần C", "cli", comment="x")])


def test_a_locked_cycle_archives_and_refuses_a_return_then_takes_it_once_unlocked(
    settings: Settings,
) -> None:
    folder = settings.inbox / CYCLE.id
    commune_return(folder / "a.csv", 1843)
    assert ingest_cycle(settings, CYCLE).loaded == 1
    before = current_values(settings)
    signoff(settings, "lock")

    late = commune_return(folder / "b.csv", 2000, submitted_on="2023-12-20")
    summary = ingest_cycle(settings, CYCLE)
    assert (summary.new_files, summary.rejected, summary.loaded, summary.rows_loaded) == (
        1,
        1,
        0,
        0,
    )
    assert [p.code for p in summary.problems] == ["cycle_locked"]
    assert "đã khóa" in summary.problems[0].message_vi
    assert "is locked" in summary.problems[0].message_en
    files = tables(settings)["received_files"].set_index("file_name")
    assert files.loc["b.csv", "status"] == "rejected"
    assert files.loc["b.csv", "reason_code"] == "cycle_locked"
    assert Path(files.loc["b.csv", "archive_path"]).read_bytes() == late.read_bytes()
    assert files.loc["a.csv", "status"] == "loaded"  # the signed return is not superseded
    assert current_values(settings) == before
    assert pending_files(settings, CYCLE) == []  # the watcher does not retry it while locked
    assert ingest_cycle(settings, CYCLE).new_files == 0

    signoff(settings, "unlock")
    assert pending_files(settings, CYCLE) == ["b.csv"]
    summary = ingest_cycle(settings, CYCLE)
    assert (summary.new_files, summary.loaded, summary.superseded) == (1, 1, 0)
    files = tables(settings)["received_files"].set_index("file_name")
    assert list(files.index) == ["a.csv", "b.csv"]  # one record per file, no leftover
    assert files.loc["b.csv", "status"] == "loaded" and files.loc["a.csv", "status"] == "superseded"
    assert files.loc["b.csv", "reason_code"] is None or files.loc["b.csv", "reason_code"] != (
        "cycle_locked"
    )
    assert current_values(settings)[("16204", "pop_children")] == 2000
    assert ingest_cycle(settings, CYCLE).new_files == 0 and pending_files(settings, CYCLE) == []
