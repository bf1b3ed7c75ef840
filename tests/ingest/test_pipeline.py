"""Ingest of an inbox folder: archive, statuses, supersession, idempotence, atomicity."""

from __future__ import annotations

import hashlib
import itertools
import shutil
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from core.settings import Settings
from core.warehouse import Warehouse
from ingest import pipeline
from ingest.pipeline import ingest_cycle
from tests.conftest import set_received, write_csv

CYCLE = Cycle.parse("2023-Y")
HEADER = ("cycle", "reporter_code", "unit_code", "element_code", "value", "submitted_on")


def commune_return(
    path: Path, value: int, submitted_on: str = "2023-12-05", reporter: str = "16204"
) -> Path:
    return write_csv(
        path,
        HEADER,
        [
            ("2023-Y", reporter, reporter, "pop_children", value, submitted_on),
            ("2023-Y", reporter, reporter, "pop_under5", value // 3, submitted_on),
        ],
    )


def tables(settings: Settings) -> dict[str, pd.DataFrame]:
    with Warehouse(settings.warehouse).connect(read_only=True) as con:
        return {
            name: con.query_df(f"select * from raw.{name} order by all")
            if con.kind == "duckdb"
            else con.query_df(f"select * from raw.{name}")
            for name in ("received_files", "return_values", "rejected_rows")
        }


def current_values(settings: Settings) -> dict[tuple[str, str], int]:
    with Warehouse(settings.warehouse).connect(read_only=True) as con:
        rows = con.query(
            "select v.unit_code, v.element_code, v.value from raw.return_values v "
            "join raw.received_files f on f.file_sha256 = v.file_sha256 and f.cycle = v.cycle "
            "where f.status = 'loaded'"
        )
    return {(u, e): int(v) for u, e, v in rows}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(base=tmp_path)


def test_every_file_is_archived_byte_for_byte_and_recorded(settings: Settings) -> None:
    folder = settings.inbox / CYCLE.id
    good = commune_return(folder / "a.csv", 1843)
    bad = folder / "b.xlsx"
    bad.write_bytes(b"not a workbook")
    summary = ingest_cycle(settings, CYCLE)
    assert (summary.loaded, summary.rejected, summary.rows_loaded) == (1, 1, 2)
    files = tables(settings)["received_files"].set_index("file_name")
    for path in (good, bad):
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert files.loc[path.name, "file_sha256"] == sha
        archived = Path(files.loc[path.name, "archive_path"])
        assert archived.read_bytes() == path.read_bytes() and sha in archived.name
    assert files.loc["b.xlsx", "status"] == "rejected"
    assert files.loc["b.xlsx", "reason_code"] == "unreadable_file"
    assert "Không đọc được" in files.loc["b.xlsx", "reason_vi"]
    assert files.loc["a.csv", "reporter_code"] == "16204"


def test_a_rejected_file_or_row_never_stops_the_rest(settings: Settings) -> None:
    folder = settings.inbox / CYCLE.id
    (folder / "0_broken.csv").parent.mkdir(parents=True)
    (folder / "0_broken.csv").write_bytes(b"\xff\xfe garbage")
    write_csv(
        folder / "1_mixed.csv",
        HEADER,
        [
            ("2023-Y", "402-health", "16204", "live_births", 101, ""),
            ("2023-Y", "402-health", "16204", "deaths_under1", "một", ""),
        ],
    )
    commune_return(folder / "2_ok.csv", 900, reporter="16207")
    summary = ingest_cycle(settings, CYCLE)
    assert (summary.loaded, summary.rejected, summary.rows_rejected) == (2, 1, 1)
    rejected = tables(settings)["rejected_rows"]
    assert rejected[["file_name", "source_row", "reason_code", "value_text"]].values.tolist() == [
        ["1_mixed.csv", 3, "not_a_number", "một"]
    ]
    assert current_values(settings)[("16204", "live_births")] == 101


def test_a_later_return_supersedes_the_earlier_one_as_a_whole(settings: Settings) -> None:
    folder = settings.inbox / CYCLE.id
    first = commune_return(folder / "v1.csv", 1000, submitted_on="2023-12-01")
    set_received(first, datetime(2023, 12, 1, 9))
    ingest_cycle(settings, CYCLE)
    assert current_values(settings)[("16204", "pop_children")] == 1000
    # The correction leaves pop_under5 blank: the earlier return's figure must not survive.
    second = write_csv(
        folder / "v2.csv",
        HEADER,
        [("2023-Y", "16204", "16204", "pop_children", 1100, "2023-12-03")],
    )
    set_received(second, datetime(2023, 12, 3, 9))
    summary = ingest_cycle(settings, CYCLE)
    assert (summary.loaded, summary.superseded) == (1, 0)
    assert current_values(settings) == {("16204", "pop_children"): 1100}
    files = tables(settings)["received_files"].set_index("file_name")
    assert files.loc["v1.csv", "status"] == "superseded"
    assert files.loc["v1.csv", "superseded_by_file"] == "v2.csv"
    # nothing already loaded is lost: the superseded figures stay in the raw layer
    assert len(tables(settings)["return_values"]) == 3


def test_submitted_on_decides_before_arrival(settings: Settings) -> None:
    folder = settings.inbox / CYCLE.id
    late_arrival = commune_return(folder / "older.csv", 1000, submitted_on="2023-12-01")
    early_arrival = commune_return(folder / "newer.csv", 1200, submitted_on="2023-12-04")
    set_received(late_arrival, datetime(2023, 12, 6, 9))  # arrived last, but written first
    set_received(early_arrival, datetime(2023, 12, 5, 9))
    ingest_cycle(settings, CYCLE)
    assert current_values(settings)[("16204", "pop_children")] == 1200
    same_day = commune_return(folder / "same_day.csv", 1300, submitted_on="2023-12-04")
    set_received(same_day, datetime(2023, 12, 5, 15))  # same submitted_on: arrival decides
    ingest_cycle(settings, CYCLE)
    assert current_values(settings)[("16204", "pop_children")] == 1300


def test_the_same_bytes_twice_is_a_no_op(settings: Settings) -> None:
    folder = settings.inbox / CYCLE.id
    original = commune_return(folder / "bc.csv", 1843)
    copy = folder / "bc (1).csv"
    copy.write_bytes(original.read_bytes())
    set_received(original, datetime(2023, 12, 5, 9))
    set_received(copy, datetime(2023, 12, 5, 10))
    summary = ingest_cycle(settings, CYCLE)
    assert (summary.loaded, summary.duplicate) == (1, 1)
    files = tables(settings)["received_files"].set_index("file_name")
    assert files.loc["bc (1).csv", "duplicate_of"] == "bc.csv"
    assert files.loc["bc (1).csv", "rows_loaded"] == 0
    assert len(tables(settings)["return_values"]) == 2  # figures stored once


def test_ingesting_twice_yields_the_same_tables(settings: Settings, demo_inbox: Path) -> None:
    settings = settings.with_(inbox=demo_inbox)
    cycle = Cycle.parse("2024-Y")
    first = ingest_cycle(settings, cycle)
    before = tables(settings)
    second = ingest_cycle(settings, cycle)
    after = tables(settings)
    assert first.new_files > 90 and second.new_files == 0
    assert second.already_ingested == first.files_in_inbox
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


@pytest.mark.parametrize("through", ["lists", "dataframes"])
def test_ingesting_in_stages_yields_the_tables_of_one_ingest(
    settings: Settings, demo_inbox: Path, through: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Returns arriving over several runs end as if ingested together: later runs update the
    statuses of the rows already recorded and add their own (whichever way rows are written)."""
    import core.warehouse

    if through == "dataframes":
        monkeypatch.setattr(core.warehouse, "LIST_INSERT_MAX_CELLS", 1000)
    cycle = Cycle.parse("2024-Y")
    by_arrival = sorted(
        (demo_inbox / cycle.id).iterdir(), key=lambda p: (p.stat().st_mtime, p.name)
    )
    at_once = settings.with_(inbox=demo_inbox, warehouse=str(settings.warehouse) + ".once")
    ingest_cycle(at_once, cycle)
    staged = settings.with_(inbox=settings.inbox)
    (staged.inbox / cycle.id).mkdir(parents=True)
    # The demo's corrections arrive 16th -> 33rd and 56th -> 67th, its duplicate 82nd -> 83rd:
    # each pair is split over two runs.
    cuts = [0, 20, 60, 60, 83, len(by_arrival)]
    changed_later = 0
    for run, (start, end) in enumerate(itertools.pairwise(cuts)):
        for path in by_arrival[start:end]:
            shutil.copy2(path, staged.inbox / cycle.id / path.name)
        before = tables(staged)["received_files"] if run else None
        summary = ingest_cycle(staged, cycle)
        assert summary.new_files == end - start
        if before is not None:
            after = tables(staged)["received_files"].set_index(["file_name", "file_sha256"])
            was = before.set_index(["file_name", "file_sha256"])["status"]
            changed_later += int((after.loc[was.index, "status"] != was).sum())
    assert changed_later >= 2  # later runs did change rows already recorded
    once, in_stages = tables(at_once), tables(staged)
    for name in once:
        pd.testing.assert_frame_equal(once[name], in_stages[name])


def test_list_inbox_lists_every_entry_in_name_order(tmp_path: Path) -> None:
    # hidden files, lock files and folders are listed too: ingest records them as refused
    for name in ("b.xlsx", "A.csv", "a b.xlsx", ".hidden.csv", "~$b.xlsx", "é.csv"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    names = ("b.xlsx", "A.csv", "a b.xlsx", ".hidden.csv", "~$b.xlsx", "é.csv", "sub")
    expected = sorted(tmp_path / n for n in names)
    assert pipeline.list_inbox(tmp_path) == expected
    assert pipeline.list_inbox(tmp_path / "missing") == []


def test_parallel_and_serial_reading_agree(settings: Settings, demo_inbox: Path) -> None:
    paths = pipeline.list_inbox(demo_inbox / "2024-Y")
    serial = pipeline.read_many(paths, Cycle.parse("2024-Y"), settings.archive, workers=1)
    parallel = pipeline.read_many(paths * 3, Cycle.parse("2024-Y"), settings.archive, workers=2)
    assert serial == parallel[: len(serial)]


def test_a_failed_write_leaves_the_warehouse_as_it_was(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = settings.inbox / CYCLE.id
    commune_return(folder / "a.csv", 1000)
    ingest_cycle(settings, CYCLE)
    before = tables(settings)
    commune_return(folder / "b.csv", 2000, reporter="16207")

    def broken_insert(
        self: object, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
    ) -> None:
        if table == "raw.return_values":
            raise RuntimeError("disk full")
        original(self, table, columns, rows)  # type: ignore[arg-type]

    from core.warehouse import WarehouseConnection

    original = WarehouseConnection.insert_rows
    monkeypatch.setattr(WarehouseConnection, "insert_rows", broken_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_cycle(settings, CYCLE)
    monkeypatch.undo()
    after = tables(settings)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


@pytest.mark.postgres
def test_ingest_into_postgresql(settings: Settings, postgres_url: str) -> None:
    settings = settings.with_(warehouse=postgres_url)
    folder = settings.inbox / CYCLE.id
    commune_return(folder / "v1.csv", 1000, submitted_on="2023-12-01")
    commune_return(folder / "v2.csv", 1100, submitted_on="2023-12-03")
    (folder / "bad.csv").write_bytes(b"cycle;value\n")
    summary = ingest_cycle(settings, CYCLE)
    assert (summary.loaded, summary.superseded, summary.rejected) == (1, 1, 1)
    assert current_values(settings)[("16204", "pop_children")] == 1100
    again = ingest_cycle(settings, CYCLE)
    assert again.new_files == 0
    assert current_values(settings)[("16204", "pop_children")] == 1100
    # A later correction: the row already recorded is updated in place.
    commune_return(folder / "v3.csv", 1200, submitted_on="2023-12-04")
    later = ingest_cycle(settings, CYCLE)
    assert (later.new_files, later.loaded) == (1, 1)
    assert current_values(settings)[("16204", "pop_children")] == 1200
    files = tables(settings)["received_files"].set_index("file_name")
    assert files.loc["v2.csv", "status"] == "superseded"
    assert files.loc["v2.csv", "superseded_by_file"] == "v3.csv"
    assert files.loc["v1.csv", "superseded_by_file"] == "v3.csv"
