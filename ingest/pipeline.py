"""Ingest a cycle's inbox folder into the raw layer, and check files without loading them.

Every file is read and checked (in worker processes when there are many), archived under its
sha256, and recorded; the warehouse is written in one transaction at the end, so a failure
leaves it as it was. Re-running on the same inbox changes nothing.
"""

from __future__ import annotations

import csv
import gc
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from core.cycles import Cycle
from core.reference import normalise_code, reference
from core.settings import Settings
from core.warehouse import Warehouse, WarehouseConnection
from ingest.archive import archive_bytes, sha256_of
from ingest.contract import CheckedReturn, check_return
from ingest.problems import FileRejected, Problem, problem
from ingest.raw_layer import (
    RECEIVED_FILES_COLUMNS,
    REJECTED_ROWS_COLUMNS,
    RETURN_VALUES_COLUMNS,
    ensure_raw_layer,
)
from ingest.readers import read_return

Progress = Callable[[int], None]
PARALLEL_THRESHOLD = 200
"""Below this many new files a process pool costs more than it saves."""


@dataclass
class ReceivedFile:
    """A file read from the inbox: where it came from, its checksum, and what the contract made
    of it, flattened to plain tuples so that it travels cheaply back from a worker process."""

    path: str
    file_name: str
    sha256: str
    size: int
    received_at: datetime
    archive_path: str
    file_format: str
    reporter_code: str | None
    reporter_name: str | None
    submitted_on: date | None
    form_version: str | None
    file_problem: Problem | None
    rows_total: int
    rows_blank: int
    values: list[tuple[object, ...]]  # RETURN_VALUES_COLUMNS from unit_code on
    rejected: list[tuple[object, ...]]  # REJECTED_ROWS_COLUMNS from sheet on
    problems: list[Problem]


@dataclass
class IngestSummary:
    cycle: str
    inbox: Path
    archive: Path
    warehouse: str
    files_in_inbox: int = 0
    already_ingested: int = 0
    new_files: int = 0
    loaded: int = 0
    superseded: int = 0
    duplicate: int = 0
    rejected: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    problems: list[Problem] = field(default_factory=list)


def list_inbox(folder: Path) -> list[Path]:
    """Return files of a cycle folder, in name order; hidden files and Office lock files skipped."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))


def _size_and_arrival(path: Path) -> tuple[int, datetime]:
    stat = path.stat()
    return stat.st_size, _arrival(stat.st_mtime)


def _arrival(mtime: float) -> datetime:
    """A file's arrival time: its modification time in UTC, to the second."""
    return datetime.fromtimestamp(mtime, UTC).replace(tzinfo=None, microsecond=0)


def check_path(path: Path, folder_cycle: Cycle | None, data: bytes | None = None) -> CheckedReturn:
    """The contract applied to one file."""
    try:
        parsed = read_return(path.name, path.read_bytes() if data is None else data)
        return check_return(parsed, reference(), folder_cycle)
    except FileRejected as rejected:
        return CheckedReturn(
            path.name, path.suffix.lower().lstrip(".") or "unknown", file_problem=rejected.problem
        )


def receive(path: Path, folder_cycle: Cycle | None, archive_dir: Path) -> ReceivedFile:
    """Read, check and archive one file (runs in worker processes)."""
    data = path.read_bytes()
    sha256 = sha256_of(data)
    archived = archive_bytes(archive_dir, sha256, path.name, data)
    checked = check_path(path, folder_cycle, data)
    return ReceivedFile(
        path=str(path),
        file_name=path.name,
        sha256=sha256,
        size=len(data),
        received_at=_arrival(path.stat().st_mtime),
        archive_path=str(archived),
        file_format=checked.file_format,
        reporter_code=checked.reporter_code,
        reporter_name=checked.reporter_name,
        submitted_on=checked.submitted_on,
        form_version=checked.form_version,
        file_problem=checked.file_problem,
        rows_total=checked.rows_total,
        rows_blank=checked.rows_blank,
        values=[
            (f.unit_code, f.element_code, f.value, f.sheet, f.row, f.note) for f in checked.figures
        ],
        rejected=[
            (
                raw.sheet,
                raw.row,
                _text(raw.unit),
                _text(raw.element),
                _text(raw.value),
                p.code,
                p.message_vi,
                p.message_en,
            )
            for raw, p in checked.rejected_rows
        ],
        problems=checked.problems,
    )


def _receive_job(job: tuple[str, str | None, str]) -> ReceivedFile:
    path, cycle_id, archive_dir = job
    return receive(Path(path), Cycle.parse(cycle_id) if cycle_id else None, Path(archive_dir))


def read_many(
    paths: Sequence[Path],
    folder_cycle: Cycle | None,
    archive_dir: Path,
    progress: Progress | None = None,
    workers: int | None = None,
) -> list[ReceivedFile]:
    """Read, check and archive files; in parallel when there are many."""
    jobs = [(str(p), folder_cycle.id if folder_cycle else None, str(archive_dir)) for p in paths]
    results: list[ReceivedFile] = []
    workers = workers or os.cpu_count() or 1
    # Hundreds of thousands of small objects arrive; the cyclic GC would rescan them over and
    # over (they hold no cycles), so it waits until they are all here.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if len(jobs) < PARALLEL_THRESHOLD or workers == 1:
            for job in jobs:
                results.append(_receive_job(job))
                if progress:
                    progress(1)
            return results
        with ProcessPoolExecutor(max_workers=workers, initializer=reference) as pool:
            for received in pool.map(_receive_job, jobs, chunksize=64):
                results.append(received)
                if progress:
                    progress(1)
        return results
    finally:
        if gc_was_enabled:
            gc.enable()


def check_files(paths: Iterable[Path]) -> list[CheckedReturn]:
    """`cycle check`: the contract applied to files anywhere, nothing loaded.

    The folder's name is taken as the cycle when it is one (as in the inbox)."""
    results = []
    for path in paths:
        try:
            folder_cycle: Cycle | None = Cycle.parse(path.parent.name)
        except ValueError:
            folder_cycle = None
        if not path.is_file():
            missing = CheckedReturn(
                path.name,
                "unknown",
                file_problem=problem(str(path), "unreadable_file", detail="no such file"),
            )
            results.append(missing)
            continue
        results.append(check_path(path, folder_cycle))
    return results


# -- ingest --------------------------------------------------------------------------------------
def ingest_cycle(
    settings: Settings,
    cycle: Cycle,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> IngestSummary:
    """Load `<inbox>/<cycle>/` into the raw layer."""
    folder = settings.inbox / cycle.id
    paths = list_inbox(folder)
    warehouse = Warehouse(settings.warehouse)
    summary = IngestSummary(
        cycle.id, folder, settings.archive, warehouse.describe(), files_in_inbox=len(paths)
    )
    with warehouse.connect() as con:
        ensure_raw_layer(con)
        existing = con.query_df(
            f"select {', '.join(RECEIVED_FILES_COLUMNS)} from raw.received_files where cycle = ?",
            [cycle.id],
        )
    known = set(zip(existing["file_name"], existing["file_sha256"], strict=True))
    # A file already recorded under the same name, size and arrival time is not read again
    # (rsync's quick check): a re-run after one late return reads one file.
    recorded = set(
        zip(
            existing["file_name"],
            existing["file_size"],
            pd.to_datetime(existing["received_at"]),
            strict=True,
        )
    )
    to_read = [p for p in paths if (p.name, *_size_and_arrival(p)) not in recorded]
    if on_total:
        on_total(len(to_read))
    received = read_many(to_read, cycle, settings.archive, progress)
    new = [r for r in received if (r.file_name, r.sha256) not in known]
    summary.already_ingested = len(paths) - len(new)
    summary.new_files = len(new)

    files = _recompute_statuses(cycle.id, existing, new)
    new_keys = {(r.file_name, r.sha256) for r in new}
    is_new = [
        (n, s) in new_keys for n, s in zip(files["file_name"], files["file_sha256"], strict=True)
    ]
    new_rows = files[is_new]
    for status in ("loaded", "superseded", "duplicate", "rejected"):
        setattr(summary, status, int((new_rows["status"] == status).sum()))

    stored_shas = set(existing.loc[existing["status"] != "duplicate", "file_sha256"])
    values, rejected = _value_frames(cycle.id, new, stored_shas)
    summary.rows_loaded = len(values)
    summary.rows_rejected = len(rejected)
    for r in new:
        summary.problems.extend(r.problems)

    with warehouse.connect() as con, con.transaction():
        _write_scope(con, settings.inbox)
        if not new:
            return summary
        con.execute("delete from raw.received_files where cycle = ?", [cycle.id])
        con.insert_df("raw.received_files", files)
        con.insert_df("raw.return_values", values)
        con.insert_df("raw.rejected_rows", rejected)
    return summary


def _recompute_statuses(
    cycle_id: str, existing: pd.DataFrame, new: list[ReceivedFile]
) -> pd.DataFrame:
    """Every file of the cycle with its status: the latest return of each reporter (by
    submitted_on, then arrival) is `loaded`, earlier ones `superseded`; the same bytes under
    another name are a `duplicate`; files the contract refuses are `rejected`."""
    records: list[dict[str, object]] = [
        {str(k): _none_if_missing(v) for k, v in row.items()} for row in existing.to_dict("records")
    ]
    seen = {str(r["file_sha256"]): str(r["file_name"]) for r in records}
    for r in sorted(new, key=lambda r: (r.received_at, r.file_name)):
        status, duplicate_of, reason = ("rejected" if r.file_problem else "candidate"), None, None
        reason = r.file_problem
        if r.sha256 in seen:
            status, duplicate_of = "duplicate", seen[r.sha256]
            reason = problem(r.file_name, "duplicate_file", original=duplicate_of)
        else:
            seen[r.sha256] = r.file_name
        records.append(
            {
                "cycle": cycle_id,
                "file_name": r.file_name,
                "file_sha256": r.sha256,
                "file_format": r.file_format,
                "file_size": r.size,
                "reporter_code": r.reporter_code,
                "reporter_name": r.reporter_name,
                "submitted_on": r.submitted_on,
                "received_at": r.received_at,
                "archive_path": r.archive_path,
                "status": status,
                "reason_code": reason.code if reason else None,
                "reason_vi": reason.message_vi if reason else None,
                "reason_en": reason.message_en if reason else None,
                "superseded_by_file": None,
                "superseded_by_sha256": None,
                "duplicate_of": duplicate_of,
                "rows_total": r.rows_total,
                "rows_loaded": len(r.values) if status != "duplicate" else 0,
                "rows_rejected": len(r.rejected),
                "rows_blank": r.rows_blank,
                "form_version": r.form_version,
            }
        )

    by_reporter: dict[str, list[dict[str, object]]] = defaultdict(list)
    for record in records:
        if record["status"] in ("candidate", "loaded", "superseded"):
            by_reporter[str(record["reporter_code"])].append(record)
    for returns in by_reporter.values():
        returns.sort(key=_supersession_order)
        winner = returns[-1]
        winner.update(status="loaded", superseded_by_file=None, superseded_by_sha256=None)
        for loser in returns[:-1]:
            loser.update(
                status="superseded",
                superseded_by_file=winner["file_name"],
                superseded_by_sha256=winner["file_sha256"],
            )
    records.sort(
        key=lambda r: (_timestamp(r["received_at"]), str(r["file_name"]), str(r["file_sha256"]))
    )
    frame = pd.DataFrame(records, columns=list(RECEIVED_FILES_COLUMNS))
    for column in ("file_size", "rows_total", "rows_loaded", "rows_rejected", "rows_blank"):
        frame[column] = frame[column].astype("int64")
    frame["received_at"] = pd.to_datetime(frame["received_at"])
    frame["submitted_on"] = pd.Series(
        [_as_date(v) for v in frame["submitted_on"]], index=frame.index, dtype=object
    )
    return frame


def _supersession_order(record: dict[str, object]) -> tuple[date, datetime, str, str]:
    """Latest last: by submitted_on (else the day received), then arrival, then name."""
    received = _timestamp(record["received_at"])
    submitted = _as_date(record["submitted_on"]) or received.date()
    return submitted, received, str(record["file_name"]), str(record["file_sha256"])


def _timestamp(value: object) -> datetime:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    assert isinstance(value, datetime)
    return value


def _none_if_missing(value: object) -> object:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _as_date(value: object) -> date | None:
    value = _none_if_missing(value)
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _value_frames(
    cycle_id: str, new: list[ReceivedFile], stored_shas: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figures and rejected rows of the new files, once per distinct content."""
    values: list[tuple[object, ...]] = []
    rejected: list[tuple[object, ...]] = []
    written = set(stored_shas)
    for r in new:
        if r.sha256 in written:
            continue
        written.add(r.sha256)
        head = (r.sha256, cycle_id, r.reporter_code)
        values.extend(head + row for row in r.values)
        rejected.extend(
            (r.sha256, cycle_id, r.file_name, r.reporter_code, *row) for row in r.rejected
        )
    value_frame = pd.DataFrame(values, columns=list(RETURN_VALUES_COLUMNS))
    value_frame["value"] = value_frame["value"].astype("int64")
    value_frame["source_row"] = value_frame["source_row"].astype("int64")
    rejected_frame = pd.DataFrame(rejected, columns=list(REJECTED_ROWS_COLUMNS))
    rejected_frame["source_row"] = rejected_frame["source_row"].astype("int64")
    return value_frame, rejected_frame


def _text(value: object) -> str | None:
    """A raw cell as text for the rejected-rows table; None when blank."""
    return normalise_code(value) or None


def _write_scope(con: WarehouseConnection, inbox: Path) -> None:
    """`<inbox>/scope.csv` (hierarchy, unit_code) names the units this deployment collects
    from; without it the whole country is expected."""
    con.execute("delete from raw.reporting_scope")
    scope_file = inbox / "scope.csv"
    if not scope_file.is_file():
        return
    with scope_file.open(encoding="utf-8-sig", newline="") as handle:
        rows = {(r["hierarchy"].strip(), r["unit_code"].strip()) for r in csv.DictReader(handle)}
    con.insert_df(
        "raw.reporting_scope", pd.DataFrame(sorted(rows), columns=["hierarchy", "unit_code"])
    )
