"""Write every consolidated report of a cycle: `<reports>/<cycle>/<level>_<code>_<name>.xlsx`
and `.html` for each district and province in the cycle's marts, `country.xlsx/html`, and an
`index.html` linking them.

The marts are read and indexed once (`reports.load`); worker processes render their share of
the units from that index, so a national cycle (~700 districts + 63 provinces) costs one
warehouse read. Files are written under a temporary name and renamed, and report files of units
no longer in the cycle are removed, so a re-run leaves exactly the current set.

A re-run (after a late return) renders only the units whose report content changed: each
report's data and the renderer's own source are fingerprinted, and the fingerprints are kept in
`<reports>/<cycle>/.fingerprints.json`.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from core.cycles import Cycle
from core.settings import Settings
from reports.html import IndexEntry, render_cycles_index, render_index, write_html
from reports.load import ReportBuilder, UnitRef, load_cycle
from reports.model import ReportData, ReportLevel
from reports.present import report_stem
from reports.xlsx import write_xlsx

IN_PROCESS_BELOW = 12
"""Fewer units than this are rendered without a process pool (its start-up would dominate)."""

_OWNED = re.compile(
    r"^(?:(?:district|province)_[0-9A-Za-z]+_[a-z0-9-]+|country)\.(?:xlsx|html)$"
    r"|^index\.html$"
)
"""Names of the files this module writes in a cycle's folder (and may remove when stale)."""


FINGERPRINTS = ".fingerprints.json"


def _renderer_digest() -> bytes:
    """The renderer's own code and templates: a change to them renders every report again."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted([*package.glob("*.py"), *(package / "templates").glob("*")]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.digest()


def fingerprint(report: ReportData, renderer: bytes) -> str:
    """What a report shows, as a hash: equal fingerprints give identical files."""
    return hashlib.sha256(renderer + pickle.dumps(report, protocol=5)).hexdigest()


class NoReportData(RuntimeError):
    """The warehouse holds no figures for the cycle (transform has not run)."""


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
    marts = load_cycle(settings.warehouse, cycle)
    if marts.indicator_values.empty and marts.return_status.empty:
        raise NoReportData(
            f"Kho dữ liệu chưa có số liệu kỳ {cycle.id} (chạy `cycle transform {cycle.id}` "
            f"trước). / The warehouse has no figures for {cycle.id} (run `cycle transform "
            f"{cycle.id}` first)."
        )
    directory = settings.reports / cycle.id
    directory.mkdir(parents=True, exist_ok=True)
    builder = ReportBuilder(marts)
    fingerprints_file = directory / FINGERPRINTS
    try:
        previous = json.loads(fingerprints_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    units = builder.units_to_report()
    if on_total:
        on_total(len(units))
    rendered = _render_all(builder, units, directory, workers, previous, progress)
    written = [(report, entry) for report, entry, _, _ in rendered]
    with _atomic(fingerprints_file) as tmp:
        tmp.write_text(
            json.dumps({r.html.name: fp for r, _, fp, _ in rendered}, indent=0), encoding="utf-8"
        )

    entries = [entry for _, entry in written]
    index = directory / "index.html"
    with _atomic(index) as tmp:
        tmp.write_text(render_index(cycle.id, entries, marts.generated_from), encoding="utf-8")
    top = settings.reports / "index.html"
    with _atomic(top) as tmp:
        tmp.write_text(render_cycles_index(settings.reports), encoding="utf-8")
    reports = [report for report, _ in written]
    keep = {path.name for r in reports for path in (r.xlsx, r.html)} | {index.name}
    removed = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and _OWNED.match(path.name) and path.name not in keep:
            path.unlink()
            removed.append(path)
    unchanged = sum(1 for *_, skipped in rendered if skipped)
    return ReportSummary(cycle.id, directory, index, reports, removed, unchanged)


Rendered = tuple[WrittenReport, IndexEntry, str, bool]
"""A unit's report, its index entry, its fingerprint, and whether it was left unchanged."""


def _render_all(
    builder: ReportBuilder,
    units: list[UnitRef],
    directory: Path,
    workers: int | None,
    previous: dict[str, str],
    progress: Callable[[int], None] | None = None,
) -> list[Rendered]:
    # The largest reports first (the country, then provinces) so no worker ends on a long one.
    rank = {"country": 0, "province": 1, "district": 2}
    jobs = sorted(((u.level, u.code) for u in units), key=lambda job: rank[job[0]])
    order = {job: n for n, job in enumerate((u.level, u.code) for u in units)}
    count = workers or min(2, os.cpu_count() or 1)
    _Worker.builder, _Worker.directory = builder, directory
    _Worker.previous, _Worker.renderer = previous, _renderer_digest()
    try:
        if count <= 1 or len(jobs) < IN_PROCESS_BELOW:
            written = [_advanced(_render_unit(job), progress) for job in jobs]
        else:
            written = _render_pool(jobs, count, progress)
    finally:
        _Worker.builder = _Worker.directory = None  # the marts are large: do not keep them
        _Worker.previous = {}
    return sorted(written, key=lambda w: order[(w[0].level, w[0].code)])


def _advanced(rendered: Rendered, progress: Callable[[int], None] | None) -> Rendered:
    if progress:
        progress(1)
    return rendered


def _render_pool(
    jobs: list[tuple[ReportLevel, str]], count: int, progress: Callable[[int], None] | None
) -> list[Rendered]:
    # Forked workers (the project runs on Linux; ingest's pool forks too) inherit the indexed
    # marts held in `_Worker`: nothing is pickled and the caller's main module (an Airflow
    # task, the CLI) is not imported again. A pool that breaks falls back to this process.
    context = multiprocessing.get_context("fork")
    chunk = max(1, min(16, len(jobs) // (count * 4)))
    try:
        with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
            return [_advanced(r, progress) for r in pool.map(_render_unit, jobs, chunksize=chunk)]
    except BrokenProcessPool:
        return [_advanced(_render_unit(job), progress) for job in jobs]


class _Worker:
    """What a worker process holds between units: the indexed marts and the output folder."""

    builder: ReportBuilder | None = None
    directory: Path | None = None
    previous: dict[str, str] = {}  # noqa: RUF012 (one process-wide value, set before forking)
    renderer: bytes = b""


def _render_unit(job: tuple[ReportLevel, str]) -> Rendered:
    assert _Worker.builder is not None and _Worker.directory is not None
    level, code = job
    report = _Worker.builder.build(level, code)
    print_ = fingerprint(report, _Worker.renderer)
    xlsx, html = report_paths(report, _Worker.directory)
    if _Worker.previous.get(html.name) == print_ and xlsx.exists() and html.exists():
        return (*describe(report, xlsx, html), print_, True)
    return (*write_report(report, _Worker.directory), print_, False)


def report_paths(report: ReportData, directory: Path) -> tuple[Path, Path]:
    stem = report_stem(report)
    return directory / f"{stem}.xlsx", directory / f"{stem}.html"


def write_report(report: ReportData, directory: Path) -> tuple[WrittenReport, IndexEntry]:
    """Write one report's xlsx and html into `directory`."""
    xlsx, html = report_paths(report, directory)
    with _atomic(xlsx) as tmp:
        write_xlsx(report, tmp)
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
