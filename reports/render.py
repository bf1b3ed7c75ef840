"""Write every consolidated report of a cycle: `<reports>/<cycle>/<level>_<code>_<name>.xlsx`
and `.html` for each district and province in the cycle's marts, `country.xlsx/html`, and an
`index.html` linking them.

The marts are read and indexed once (`reports.load`); worker processes render their share of
the units from that index, so a national cycle (~700 districts + 63 provinces) costs one
warehouse read. Files are written under a temporary name and renamed, and report files of units
no longer in the cycle are removed, so a re-run leaves exactly the current set.

A re-run (after a late return) costs what changed: the warehouse digests the rows each report
reads (`reports.inputs`), and a report whose digest is the one recorded when it was written
(`core.ledger`, step "report", with its folder, content fingerprint and index entry) is left as
it is, unread. Only
the indicator values of the units still to render are read; a report whose inputs changed but
whose content did not (the same fingerprint of its data and the renderer's code) is not
rewritten either.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import pickle
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from core import ledger
from core.cycles import Cycle
from core.memory import collector_paused
from core.settings import Settings
from core.warehouse import Warehouse
from reports.errors import MissingMarts, NoReportData
from reports.html import IndexEntry, render_cycles_index, render_index, write_html
from reports.inputs import CycleInputs, read_inputs
from reports.load import ReportBuilder, UnitRef, load_cycle
from reports.model import ReportData, ReportLevel
from reports.present import report_stem, signoff_label, unit_stem
from reports.xlsx import write_xlsx

IN_PROCESS_BELOW = 2
"""Fewer jobs than this are rendered without a process pool (forking one costs ~30 ms)."""

_OWNED = re.compile(
    r"^(?:(?:district|province)_[0-9A-Za-z]+_[a-z0-9-]+|country)\.(?:xlsx|html)$"
    r"|^index\.html$"
)
"""Names of the files this module writes in a cycle's folder (and may remove when stale)."""


STEP = "report"
"""The step's entries in core.ledger: per cycle, item `<level>/<code>`, the digest of the
report's inputs, with its folder, the fingerprint of its content and its line in the index."""


def _renderer_digest() -> bytes:
    """The renderer's own code and templates, and the reference code the reports' data and
    wording come from (agency names, sensitive elements, number formats): a change to any of
    them renders every report again, even one whose rows have not changed."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    core = package.parent / "core"
    sources = [*package.glob("*.py"), *(package / "templates").glob("*")]
    for path in [*sorted(sources), core / "reference.py", core / "text.py"]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.digest()


def fingerprint(report: ReportData, renderer: bytes) -> str:
    """What a report shows, as a hash: equal fingerprints give identical files."""
    return hashlib.sha256(renderer + pickle.dumps(report, protocol=5)).hexdigest()


@dataclass(frozen=True)
class WrittenReport:
    level: ReportLevel
    code: str
    name_vi: str
    xlsx: Path
    html: Path


@dataclass(frozen=True)
class ReportSummary:
    cycle: str
    directory: Path
    index: Path
    reports: list[WrittenReport]
    removed: list[Path] = field(default_factory=list)
    """Stale report files of units no longer in the cycle, deleted."""
    unchanged: int = 0
    """Reports whose content had not changed since the last run, left as they were."""
    nothing_received: bool = False
    """No return has been received for the cycle yet: the index says so, and nothing else is
    written."""

    @property
    def counts(self) -> dict[str, int]:
        out = {"district": 0, "province": 0, "country": 0}
        for r in self.reports:
            out[r.level] += 1
        return out

    @property
    def files(self) -> list[Path]:
        return [path for r in self.reports for path in (r.xlsx, r.html)] + [self.index]


def write_reports(
    settings: Settings,
    cycle: Cycle,
    *,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ReportSummary:
    """Write the cycle's reports and index; return what was written. Prints nothing."""
    renderer = _renderer_digest()
    try:
        inputs = read_inputs(settings.warehouse, cycle, renderer)
    except MissingMarts:
        # A deployment whose first cycle has received nothing has built no marts yet.
        if _received(settings, cycle) != (0, 0):
            raise
        return _write_nothing_received(settings, cycle)
    if not inputs.has_figures:
        raw_files, inbox_files = _received(settings, cycle)
        if (raw_files, inbox_files) == (0, 0):
            return _write_nothing_received(settings, cycle)
        if raw_files:
            raise NoReportData(
                f"Kho dữ liệu chưa có số liệu kỳ {cycle.id} dù đã nhận {raw_files} tệp (chạy "
                f"`cycle transform {cycle.id}` trước). / The warehouse has no figures for "
                f"{cycle.id} although {raw_files} files were received (run `cycle transform "
                f"{cycle.id}` first)."
            )
        raise NoReportData(
            f"Hộp thư kỳ {cycle.id} có {inbox_files} tệp chưa được nạp (chạy `cycle run "
            f"{cycle.id}`). / The inbox holds {inbox_files} files for {cycle.id} not ingested "
            f"yet (run `cycle run {cycle.id}`)."
        )
    directory = settings.reports / cycle.id
    directory.mkdir(parents=True, exist_ok=True)
    kept = _read_state(settings, cycle, directory)
    if on_total:
        on_total(len(inputs.units))

    done, stale = _unchanged(inputs, kept, directory)
    if progress and done:
        progress(len(done))
    if stale:
        # Only the indicator values of the units to render (all of them on a first run).
        codes = None if len(stale) == len(inputs.units) else inputs.value_codes_of(stale)
        # The index is millions of objects made at once and kept until the reports are
        # written: collections while it is built would walk them all and free nothing.
        with collector_paused():
            builder = ReportBuilder(load_cycle(settings.warehouse, cycle, unit_codes=codes))
        previous = {item: last.content for item, last in kept.items()}
        for r in _render_all(builder, stale, directory, workers, previous, renderer, progress):
            done[(r[0].level, r[0].code)] = r
    rendered = [done[(u.level, u.code)] for u in inputs.units]

    entries = [entry for _, entry, _, _ in rendered]
    index = directory / "index.html"
    with _atomic(index) as tmp:
        tmp.write_text(render_index(cycle.id, entries, inputs.generated_from), encoding="utf-8")
    top = settings.reports / "index.html"
    with _atomic(top) as tmp:
        tmp.write_text(render_cycles_index(settings.reports), encoding="utf-8")
    reports = [report for report, _, _, _ in rendered]
    keep = {path.name for r in reports for path in (r.xlsx, r.html)} | {index.name}
    removed = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and _OWNED.match(path.name) and path.name not in keep:
            path.unlink()
            removed.append(path)
    written = [
        ledger.Entry(
            f"{r.level}/{r.code}",
            inputs.digests[(r.level, r.code)],
            detail={"folder": str(directory), "content": content, "entry": asdict(entry)},
        )
        for r, entry, content, _ in rendered
    ]
    with Warehouse(settings.warehouse).connect() as con, con.transaction():
        ledger.reset(con, STEP, cycle.id)
        ledger.record(con, STEP, cycle.id, written, append=True)
    unchanged = sum(1 for *_, left in rendered if left)
    return ReportSummary(cycle.id, directory, index, reports, removed, unchanged)


def _received(settings: Settings, cycle: Cycle) -> tuple[int, int]:
    """How many files of the cycle the raw layer records, and how many its inbox folder holds
    (a missing folder holds none)."""
    from ingest.pipeline import list_inbox

    inbox_files = len(list_inbox(settings.inbox / cycle.id))
    wh = Warehouse(settings.warehouse)
    with wh.connect(read_only=True) as con:
        if not con.table_exists("raw", "received_files"):
            return 0, inbox_files
        ((raw_files,),) = con.query(
            "select count(*) from raw.received_files where cycle = ?", [cycle.id]
        )
    return int(raw_files), inbox_files


def _write_nothing_received(settings: Settings, cycle: Cycle) -> ReportSummary:
    """A cycle for which no return has arrived yet (its inbox folder is missing or empty, and
    the warehouse records no file of it): the cycle's index says so, the reports index lists
    it, and no unit report is written (there is nothing to report). Report files of an earlier
    run, if any, are left alone: nothing already written is lost."""
    directory = settings.reports / cycle.id
    directory.mkdir(parents=True, exist_ok=True)
    index = directory / "index.html"
    with _atomic(index) as tmp:
        text = render_index(cycle.id, [], Warehouse(settings.warehouse).describe(), empty=True)
        tmp.write_text(text, encoding="utf-8")
    top = settings.reports / "index.html"
    with _atomic(top) as tmp:
        tmp.write_text(render_cycles_index(settings.reports), encoding="utf-8")
    return ReportSummary(cycle.id, directory, index, [], nothing_received=True)


@dataclass(frozen=True)
class _Kept:
    """What the ledger recorded of a report written in this folder."""

    inputs: str
    content: str
    entry: IndexEntry


def _read_state(settings: Settings, cycle: Cycle, directory: Path) -> dict[str, _Kept]:
    """The reports last written into `directory`, by `<level>/<code>`; a report recorded in
    another layout, or written into another folder, is rendered again."""
    with Warehouse(settings.warehouse).connect(read_only=True) as con:
        recorded = ledger.recorded(con, STEP, cycle.id)
    out = {}
    for item, last in recorded.items():
        try:
            if last.detail["folder"] == str(directory):
                entry = IndexEntry(**last.detail["entry"])
                out[item] = _Kept(last.digest, str(last.detail["content"]), entry)
        except (KeyError, TypeError):
            continue
    return out


def _unchanged(
    inputs: CycleInputs, kept: dict[str, _Kept], directory: Path
) -> tuple[dict[tuple[str, str], Rendered], list[UnitRef]]:
    """The reports whose inputs are those they were rendered from, as kept (with both files
    still there), and the others, to render."""
    done: dict[tuple[str, str], Rendered] = {}
    stale: list[UnitRef] = []
    for unit in inputs.units:
        key = (unit.level, unit.code)
        xlsx, html = unit_paths(unit, directory)
        last = kept.get(f"{unit.level}/{unit.code}")
        if last and last.inputs == inputs.digests[key] and xlsx.exists() and html.exists():
            report = WrittenReport(unit.level, unit.code, unit.name_vi, xlsx, html)
            done[key] = (report, last.entry, last.content, True)
        else:
            stale.append(unit)
    return done, stale


def unit_paths(unit: UnitRef, directory: Path) -> tuple[Path, Path]:
    stem = unit_stem(unit.level, unit.code, unit.name_ascii)
    return directory / f"{stem}.xlsx", directory / f"{stem}.html"


Rendered = tuple[WrittenReport, IndexEntry, str, bool]
"""A unit's report, its index entry, its fingerprint, and whether it was left unchanged."""

Format = Literal["xlsx", "html"]
Job = tuple[ReportLevel, str, tuple[Format, ...]]
"""A unit's report and the files of it to write."""


def _jobs(units: list[UnitRef]) -> list[Job]:
    # The largest reports first (the country, then provinces) so no worker ends on a long one.
    # The country's two files are two jobs: with every return of the cycle it takes seconds.
    rank = {"country": 0, "province": 1, "district": 2}
    jobs: list[Job] = []
    for u in sorted(units, key=lambda u: rank[u.level]):
        if u.level == "country":
            jobs += [(u.level, u.code, ("xlsx",)), (u.level, u.code, ("html",))]
        else:
            jobs.append((u.level, u.code, ("xlsx", "html")))
    return jobs


def _render_all(
    builder: ReportBuilder,
    units: list[UnitRef],
    directory: Path,
    workers: int | None,
    previous: dict[str, str],
    renderer: bytes,
    progress: Callable[[int], None] | None = None,
) -> list[Rendered]:
    jobs = _jobs(units)
    count = workers or min(2, os.cpu_count() or 1)
    _Worker.builder, _Worker.directory = builder, directory
    _Worker.previous, _Worker.renderer = previous, renderer
    pending = Counter(job[:2] for job in jobs)
    merged: dict[tuple[str, str], Rendered] = {}
    try:
        in_process = count <= 1 or len(jobs) < IN_PROCESS_BELOW
        for rendered in map(_render_job, jobs) if in_process else _render_pool(jobs, count):
            # A unit is done when all its jobs are; unchanged only if none of them wrote.
            key = (rendered[0].level, rendered[0].code)
            before = merged.get(key)
            merged[key] = rendered if before is None else (*rendered[:3], before[3] and rendered[3])
            pending[key] -= 1
            if progress and not pending[key]:
                progress(1)
    finally:
        _Worker.builder = _Worker.directory = None  # the marts are large: do not keep them
        _Worker.previous = {}
    return [merged[(u.level, u.code)] for u in units]


def _render_pool(jobs: list[Job], count: int) -> Iterator[Rendered]:
    # Forked workers (the project runs on Linux; ingest's pool forks too) inherit the indexed
    # marts held in `_Worker`: nothing is pickled and the caller's main module (an Airflow
    # task, the CLI) is not imported again. A pool that breaks leaves the rest to this process.
    # Each worker freezes what it inherited (gc.freeze, as Python's documentation advises
    # after a fork): its collections then skip the millions of objects of the indexed marts,
    # and do not write to their pages, which stay shared with this process.
    context = multiprocessing.get_context("fork")
    # Small chunks: the workers finish together (a district's report takes ~30 ms).
    chunk = max(1, min(4, len(jobs) // (count * 4)))
    done = 0
    try:
        with ProcessPoolExecutor(
            max_workers=count, mp_context=context, initializer=gc.freeze
        ) as pool:
            for rendered in pool.map(_render_job, jobs, chunksize=chunk):
                done += 1
                yield rendered
    except BrokenProcessPool:
        yield from (_render_job(job) for job in jobs[done:])


class _Worker:
    """What a worker process holds between units: the indexed marts and the output folder."""

    builder: ReportBuilder | None = None
    directory: Path | None = None
    previous: dict[str, str] = {}  # noqa: RUF012 (one process-wide value, set before forking)
    renderer: bytes = b""


def _render_job(job: Job) -> Rendered:
    assert _Worker.builder is not None and _Worker.directory is not None
    level, code, formats = job
    report = _Worker.builder.build(level, code)
    print_ = fingerprint(report, _Worker.renderer)
    xlsx, html = report_paths(report, _Worker.directory)
    paths = {"xlsx": xlsx, "html": html}
    unchanged = _Worker.previous.get(f"{level}/{code}") == print_
    if unchanged and all(paths[f].exists() for f in formats):
        return (*describe(report, xlsx, html), print_, True)
    return (*write_report(report, _Worker.directory, formats), print_, False)


def report_paths(report: ReportData, directory: Path) -> tuple[Path, Path]:
    stem = report_stem(report)
    return directory / f"{stem}.xlsx", directory / f"{stem}.html"


def write_report(
    report: ReportData, directory: Path, formats: tuple[Format, ...] = ("xlsx", "html")
) -> tuple[WrittenReport, IndexEntry]:
    """Write one report's xlsx and html (or only those of `formats`) into `directory`."""
    xlsx, html = report_paths(report, directory)
    if "xlsx" in formats:
        with _atomic(xlsx) as tmp:
            write_xlsx(report, tmp)
    if "html" in formats:
        with _atomic(html) as tmp:
            write_html(report, tmp)
    return describe(report, xlsx, html)


def describe(report: ReportData, xlsx: Path, html: Path) -> tuple[WrittenReport, IndexEntry]:
    """The report's summary and its line in the cycle's index."""
    own = report.own_rates.get("all")
    entry = IndexEntry(
        level=report.level,
        code=report.unit.code,
        name_vi=report.unit.name_vi,
        province_code=(
            report.unit.parent_code
            if report.level == "district"
            else report.unit.code
            if report.level == "province"
            else None
        ),
        html=html.name,
        xlsx=xlsx.name,
        reporting_rate=own.reporting_rate if own else None,
        not_met=report.status_counts()["not_met"],
        errors=report.severity_counts()["error"] if report.quality_checked else None,
        signoff=signoff_label(report),
    )
    level: ReportLevel = (
        "country"
        if report.level == "country"
        else ("district" if report.level == "district" else "province")
    )
    return WrittenReport(level, report.unit.code, report.unit.name_vi, xlsx, html), entry


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Write to a hidden temporary file beside `path`, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
