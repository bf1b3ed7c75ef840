"""Ingest a cycle's inbox folder into the raw layer, and check files without loading them.

Every file is read and checked (in worker processes when there are many), archived under its
sha256, and recorded; the warehouse is written in one transaction at the end, so a failure
leaves it as it was. Re-running on the same inbox changes nothing.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from core.cycles import Cycle
from core.reference import reference
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
    """A file read from the inbox: where it came from, its checksum and what the contract says."""

    path: str
    file_name: str
    sha256: str
    size: int
    received_at: datetime
    checked: CheckedReturn
    archive_path: str = ""


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


def read_file(path: Path, folder_cycle: Cycle | None) -> ReceivedFile:
    """Read, hash and check one file (safe to call in a worker process)."""
    data = path.read_bytes()
    stat = path.stat()
    try:
        parsed = read_return(path.name, data)
        checked = check_return(parsed, reference(), folder_cycle)
    except FileRejected as rejected:
        checked = CheckedReturn(
            path.name, path.suffix.lower().lstrip(".") or "unknown", file_problem=rejected.problem
        )
    return ReceivedFile(
        path=str(path),
        file_name=path.name,
        sha256=sha256_of(data),
        size=len(data),
        received_at=datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None, microsecond=0),
        checked=checked,
    )


def _read_and_archive(args: tuple[str, str | None, str]) -> ReceivedFile:
    path, cycle_id, archive_dir = args
    received = read_file(Path(path), Cycle.parse(cycle_id) if cycle_id else None)
    received.archive_path = str(
        archive_bytes(
            Path(archive_dir), received.sha256, received.file_name, Path(path).read_bytes()
        )
    )
    return received


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
    if len(jobs) < PARALLEL_THRESHOLD or workers == 1:
        for job in jobs:
            results.append(_read_and_archive(job))
            if progress:
                progress(1)
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for received in pool.map(_read_and_archive, jobs, chunksize=64):
            results.append(received)
            if progress:
                progress(1)
    return results


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
        results.append(read_file(path, folder_cycle).checked)
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
    if on_total:
        on_total(len(paths))
    received = read_many(paths, cycle, settings.archive, progress)
    new = [r for r in received if (r.file_name, r.sha256) not in known]
    summary.already_ingested = len(received) - len(new)
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
        summary.problems.extend(r.checked.problems)

    with warehouse.connect() as con, con.transaction():
        _write_scope(con, settings.inbox)
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
    seen_shas = dict(zip(existing["file_sha256"], existing["file_name"], strict=True))
    rows = []
    for r in sorted(new, key=lambda r: (r.received_at, r.file_name)):
        c = r.checked
        status, duplicate_of = ("rejected" if c.file_problem else "candidate"), None
        reason = c.file_problem
        if r.sha256 in seen_shas:
            status, duplicate_of = "duplicate", seen_shas[r.sha256]
            reason = problem(r.file_name, "duplicate_file", original=duplicate_of)
        else:
            seen_shas[r.sha256] = r.file_name
        rows.append(
            {
                "cycle": cycle_id,
                "file_name": r.file_name,
                "file_sha256": r.sha256,
                "file_format": c.file_format,
                "file_size": r.size,
                "reporter_code": c.reporter_code,
                "reporter_name": c.reporter_name,
                "submitted_on": c.submitted_on,
                "received_at": r.received_at,
                "archive_path": r.archive_path,
                "status": status,
                "reason_code": reason.code if reason else None,
                "reason_vi": reason.message_vi if reason else None,
                "reason_en": reason.message_en if reason else None,
                "superseded_by_file": None,
                "superseded_by_sha256": None,
                "duplicate_of": duplicate_of,
                "rows_total": c.rows_total,
                "rows_loaded": len(c.figures) if status != "duplicate" else 0,
                "rows_rejected": len(c.rejected_rows),
                "rows_blank": c.rows_blank,
                "form_version": c.form_version,
            }
        )
    frame = (
        pd.concat(
            [existing.astype(object), pd.DataFrame(rows, columns=list(RECEIVED_FILES_COLUMNS))],
            ignore_index=True,
        )
        if rows
        else existing.astype(object).copy()
    )

    candidates = frame["status"].isin(["candidate", "loaded", "superseded"])
    frame.loc[candidates, ["superseded_by_file", "superseded_by_sha256"]] = None
    order = (
        frame[candidates]
        .assign(
            _effective=pd.Series(
                [
                    _as_date(s) or _as_date(t)
                    for s, t in zip(
                        frame.loc[candidates, "submitted_on"],
                        frame.loc[candidates, "received_at"],
                        strict=True,
                    )
                ],
                index=frame.index[candidates],
                dtype=object,
            ),
            _received=pd.to_datetime(frame.loc[candidates, "received_at"]),
        )
        .sort_values(["reporter_code", "_effective", "_received", "file_name", "file_sha256"])
    )
    for _, group in order.groupby("reporter_code", sort=False):
        winner = group.index[-1]
        frame.loc[winner, "status"] = "loaded"
        losers = group.index[:-1]
        frame.loc[losers, "status"] = "superseded"
        frame.loc[losers, "superseded_by_file"] = frame.loc[winner, "file_name"]
        frame.loc[losers, "superseded_by_sha256"] = frame.loc[winner, "file_sha256"]
    frame = frame.sort_values(["received_at", "file_name", "file_sha256"]).reset_index(drop=True)
    return _typed_files(frame)


def _as_date(value: object) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _typed_files(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[list(RECEIVED_FILES_COLUMNS)].copy()
    for column in ("file_size", "rows_total", "rows_loaded", "rows_rejected", "rows_blank"):
        frame[column] = frame[column].astype("int64")
    frame["received_at"] = pd.to_datetime(frame["received_at"])
    frame["submitted_on"] = pd.to_datetime(frame["submitted_on"]).dt.date
    frame["submitted_on"] = (
        frame["submitted_on"].astype(object).where(frame["submitted_on"].notna(), None)
    )
    for column in RECEIVED_FILES_COLUMNS:
        if frame[column].dtype == object and column not in ("submitted_on",):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


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
        c = r.checked
        for f in c.figures:
            values.append(
                (
                    r.sha256,
                    cycle_id,
                    c.reporter_code,
                    f.unit_code,
                    f.element_code,
                    f.value,
                    f.sheet,
                    f.row,
                    f.note,
                )
            )
        for raw, p in c.rejected_rows:
            rejected.append(
                (
                    r.sha256,
                    cycle_id,
                    r.file_name,
                    c.reporter_code,
                    raw.sheet,
                    raw.row,
                    _text(raw.unit),
                    _text(raw.element),
                    _text(raw.value),
                    p.code,
                    p.message_vi,
                    p.message_en,
                )
            )
    value_frame = pd.DataFrame(values, columns=list(RETURN_VALUES_COLUMNS))
    value_frame["value"] = value_frame["value"].astype("int64")
    value_frame["source_row"] = value_frame["source_row"].astype("int64")
    rejected_frame = pd.DataFrame(rejected, columns=list(REJECTED_ROWS_COLUMNS))
    rejected_frame["source_row"] = rejected_frame["source_row"].astype("int64")
    return value_frame, rejected_frame


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


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
