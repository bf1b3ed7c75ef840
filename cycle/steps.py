"""The steps of a reporting cycle. The CLI and the Airflow DAG call these functions, and only
these: there is one code path.

Heavy libraries (dbt, Great Expectations, xlsxwriter) are imported inside each step, so that
importing this module (and parsing the DAG) stays fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, Literal, ParamSpec, TypeVar

from core.cycles import Cycle
from core.errors import UserError
from core.settings import Settings
from core.warehouse import Warehouse
from cycle.progress import progress_bar

if TYPE_CHECKING:
    from alerts.send import AlertSummary
    from cycle.signoff import UnitSignoff
    from cycle.transform import TransformSummary
    from expectations.runner import ValidationSummary
    from ingest.pipeline import IngestSummary
    from reports.render import ReportSummary


STEPS = ("ingest", "transform", "validate", "report", "alert")

_log = logging.getLogger(__name__)


def settings() -> Settings:
    """Settings from the CYCLE_* environment (as the DAG's workers see it)."""
    return Settings.from_env()


def cycle(cycle_id: str) -> Cycle:
    return Cycle.parse(cycle_id)


class InboxNotFound(UserError):
    """The inbox itself (`--inbox`, CYCLE_INBOX) does not exist: a wrong path, not a cycle
    that has received nothing yet."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locked(
    step: Callable[Concatenate[Settings, _P], _R],
) -> Callable[Concatenate[Settings, _P], _R]:
    """The step holds the warehouse's lock (core.warehouse.Warehouse.lock): two runs on one
    warehouse never write at once; the second waits, then says who holds it. Steps run
    inside `cycle run` share its lock."""

    @functools.wraps(step)
    def locked(settings: Settings, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with Warehouse(settings.warehouse).lock(f"cycle {step.__name__}"):
            return step(settings, *args, **kwargs)

    return locked


@_locked
def ingest(settings: Settings, cycle: Cycle) -> IngestSummary:
    """Load `<inbox>/<cycle>/` into the raw layer (idempotent). A missing or empty cycle folder
    is a cycle that has received nothing yet (0 files); a missing inbox is an error."""
    from ingest.pipeline import ingest_cycle

    if not settings.inbox.is_dir():
        raise InboxNotFound(
            f"Không tìm thấy hộp thư {settings.inbox} (kiểm tra --inbox / CYCLE_INBOX). / "
            f"Inbox not found: {settings.inbox} (check --inbox / CYCLE_INBOX)."
        )

    with progress_bar(f"Ingest {cycle.id}") as (advance, set_total):
        return ingest_cycle(settings, cycle, progress=advance, on_total=set_total)


@_locked
def transform(
    settings: Settings, cycle: Cycle, full_refresh: bool = False, whole_cycle: bool = False
) -> TransformSummary:
    """dbt build of what changed since the last build: the cycles whose returns changed (and
    the next comparable cycles, whose comparisons use them), in the largest tables only the
    provinces concerned; `whole_cycle` rebuilds the cycle whole."""
    from cycle.transform import run_transform

    return run_transform(settings, cycle, full_refresh=full_refresh, whole_cycle=whole_cycle)


@_locked
def validate(settings: Settings, cycle: Cycle, whole_cycle: bool = False) -> ValidationSummary:
    """Great Expectations suites on the cycle's check tables (the provinces whose rows changed
    since the last validation; `whole_cycle`: all); findings into the warehouse and Data Docs
    under `<reports>/<cycle>/data_docs/`."""
    from expectations.runner import run_validation

    docs = settings.reports / cycle.id / "data_docs"
    return run_validation(settings, cycle, docs, whole_cycle=whole_cycle)


@_locked
def report(settings: Settings, cycle: Cycle) -> ReportSummary:
    """Consolidated reports per district, province and the country; for a cycle that has
    received nothing yet, an index saying so (`ReportSummary.nothing_received`)."""
    from reports.render import write_reports

    with progress_bar(f"Report {cycle.id}") as (advance, set_total):
        return write_reports(settings, cycle, progress=advance, on_total=set_total)


@_locked
def alert(
    settings: Settings,
    cycle: Cycle,
    dry_run: bool = False,
    smtp_conn: str | None = None,
    resend_uncertain: bool = False,
) -> AlertSummary:
    """One email per district office (province office after the reform) about its own units.

    SMTP: `smtp_conn` (a connection URI), else AIRFLOW_CONN_SMTP_DEFAULT. Every office is tried
    and logged first; then, unless this is a dry run, raises AlertsNotDelivered when an office
    did not get its alert (no SMTP connection, server unreachable, message refused, no contacts
    file) or may not have (`uncertain`: re-sent only with `resend_uncertain`), so that the
    Airflow task fails and is retried. Offices missing from the contacts file are a warning."""
    from alerts.send import send_alerts

    summary = send_alerts(
        settings, cycle, dry_run=dry_run, smtp_conn=smtp_conn, resend_uncertain=resend_uncertain
    )
    _log.info("%s", summary.format())
    warning = summary.contacts_warning()
    if warning:
        _log.warning("%s", warning)
    summary.raise_if_undelivered()
    return summary


@dataclass
class CycleRun:
    """What `cycle run` did for one cycle, with the seconds each step took."""

    cycle: str
    ingest: IngestSummary | None = None
    transform: TransformSummary | None = None
    validate: ValidationSummary | None = None
    report: ReportSummary | None = None
    alert: AlertSummary | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    alerts_undelivered: str | None = None
    """Why the alert step failed (AlertsNotDelivered's first line); the run went on."""


@dataclass
class RunSummary:
    cycles: list[CycleRun] = field(default_factory=list)

    def alerts_undelivered(self) -> list[str]:
        """Per cycle whose alert step failed, why (one line each)."""
        return [e.alerts_undelivered for e in self.cycles if e.alerts_undelivered]

    def step_seconds(self) -> dict[str, float]:
        """Seconds per step over every cycle of the run, in the steps' order."""
        total = dict.fromkeys(STEPS, 0.0)
        for entry in self.cycles:
            for step, seconds in entry.seconds.items():
                total[step] += seconds
        return {step: round(seconds, 2) for step, seconds in total.items()}


@_locked
def run(settings: Settings, cycles: Sequence[Cycle], dry_run_alerts: bool = False) -> RunSummary:
    """Whole cycles: ingest -> transform -> validate -> report -> alert.

    Several cycles are ingested first and transformed in one dbt build (the history a cycle is
    judged against comes from the earlier ones); then each is validated, reported and alerted.
    Every step is idempotent, so a run can be repeated after a late return."""
    ordered = sorted(set(cycles))
    summary = RunSummary([CycleRun(c.id) for c in ordered])
    # dbt takes seconds of a core to import and to parse the project for the first time: a
    # process does that while ingest runs (a re-run's ingest reads one file and leaves a core
    # idle), then transforms. Great Expectations takes as long to import: another process
    # does it while dbt builds (mostly one core: dbt's Python holds the GIL), then validates.
    # Both run at a lower priority: their warm-up must not slow the step that runs meanwhile
    # (ingest's workers, then dbt's build); only a core left idle goes to it.
    with _worker(_warm_up_transform, settings) as transformer:
        for entry, c in zip(summary.cycles, ordered, strict=True):
            with _timed(entry, "ingest"):
                entry.ingest = ingest(settings, c)
        # This process waits for dbt and GX now: it imports what reports and alerts need.
        _prepare_reports_and_alerts()
        with _worker(_warm_up_validate) as validator:
            # one cycle: rebuild what changed; several: rebuild everything once
            with _timed(summary.cycles[-1], "transform"):
                shared = _call(transformer, transform, settings, ordered[-1], len(ordered) > 1)
            # its memory (dbt's manifest) goes back to the system while the run goes on
            transformer.shutdown(wait=False)
            for entry, c in zip(summary.cycles, ordered, strict=True):
                entry.transform = shared
                with _timed(entry, "validate"):
                    entry.validate = _call(validator, validate, settings, c)
                if entry is summary.cycles[-1]:
                    validator.shutdown(wait=False)
                with _timed(entry, "report"):
                    entry.report = report(settings, c)
                with _timed(entry, "alert"):
                    entry.alert, entry.alerts_undelivered = _alert_in_run(
                        settings, c, dry_run_alerts
                    )
    return summary


def _alert_in_run(
    settings: Settings, cycle: Cycle, dry_run: bool
) -> tuple[AlertSummary, str | None]:
    """The alert step within a run: offices not alerted do not stop the other cycles' steps;
    the run reports them at the end (and the command line exits 1)."""
    from alerts.send import AlertsNotDelivered

    try:
        return alert(settings, cycle, dry_run=dry_run), None
    except AlertsNotDelivered as exc:
        assert exc.summary is not None
        return exc.summary, exc.headline


def _prepare_reports_and_alerts() -> None:
    """Import what the report and alert steps use, in a thread of this process while it waits
    for dbt and GX (Airflow's SMTP hook alone is a second of imports); an error is left for
    the step that uses them to raise."""
    import threading

    def load() -> None:
        with contextlib.suppress(Exception):
            import reports.render  # noqa: F401
            from alerts.smtp import airflow_smtp

            airflow_smtp()

    threading.Thread(target=load, name="cycle-imports", daemon=True).start()


def _warm_up_transform(settings: Settings) -> None:
    os.nice(10)
    from cycle.transform import warm_up

    warm_up(settings)


def _warm_up_validate() -> None:
    os.nice(15)
    import expectations.runner  # noqa: F401 (the validate step's own modules, pandas among them)
    from expectations.gx_runtime import import_gx

    import_gx()


@contextlib.contextmanager
def _worker(warm_up: Callable[..., None], *args: Any) -> Iterator[ProcessPoolExecutor]:
    """A process of its own that warms up (imports a heavy library) as soon as it starts, then
    runs the steps it is sent. Spawned, not forked: a fork of a process that has run dbt or GX
    before (a test session, a notebook) can inherit a lock held by one of their threads and
    hang. It opens no warehouse until sent a step, and inherits the run's warehouse lock."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(warm_up, *args)  # starts the process now; a failure is the step's to raise
        yield pool


def _call(pool: ProcessPoolExecutor, step: Callable[..., _R], *args: Any) -> _R:
    """The step's result from the worker, its exception raised here; if the worker could not
    start or died, the step runs in this process instead: the same function."""
    try:
        return pool.submit(step, *args).result()
    except BrokenProcessPool:
        return step(*args)


@contextlib.contextmanager
def _timed(entry: CycleRun, step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        entry.seconds[step] = round(time.perf_counter() - started, 2)


def as_xcom(summary: Any) -> dict[str, Any]:
    """A step's summary as a small JSON-safe dict for XCom: counts and paths, never data."""
    raw = {f.name: getattr(summary, f.name) for f in dataclasses.fields(summary)}
    small: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, bool | int | float | str) or value is None:
            small[key] = value
        elif isinstance(value, Path):
            small[key] = str(value)
        elif isinstance(value, list | tuple | dict | set):
            small[f"{key}_count"] = len(value)
    return small


# Sign-off in Airflow (dags/reporting_cycle.py): one question per unit waiting for approval,
# answered in the UI's "Required actions" or through the REST API. The answer is recorded by
# the same `cycle.signoff.approve` as `cycle approve`, with via='airflow'.
SIGNOFF_APPROVE = "Phê duyệt / Approve"
SIGNOFF_NOT_APPROVED = "Chưa phê duyệt / Not approved"
SIGNOFF_OPTIONS = (SIGNOFF_APPROVE, SIGNOFF_NOT_APPROVED)
SignoffWave = Literal["offices", "provinces"]
"""`offices`: the units of the consolidating offices (districts before the reform, provinces
after); `provinces`: before the reform, the provinces, which sign after all their districts."""


@dataclass(frozen=True)
class SignoffRequest:
    """One question to ask in Airflow: approve this unit's figures for the cycle?"""

    unit_level: str
    unit_code: str
    unit_name_vi: str | None
    subject: str
    body: str
    """Markdown: what the unit's figures are, where its reports are, what approving does."""


def awaits_approval(unit: UnitSignoff) -> bool:
    """Ready, and not approved yet (or approved, with figures changed since: a new revision).
    An approved unit without a pending revision and a locked cycle ask nothing."""
    if not unit.ready:
        return False
    return unit.state in ("open", "validated") or (
        unit.state == "approved" and unit.pending_revision
    )


def signoff_requests(settings: Settings, cycle: Cycle, wave: SignoffWave) -> list[SignoffRequest]:
    """The units of one wave that await approval now, each with its question; none for a
    cycle with no sign-off state yet (nothing received or built: nobody can be ready)."""
    from cycle.signoff import SignoffNotAvailable, unit_signoffs

    try:
        units = unit_signoffs(settings, cycle)
    except SignoffNotAvailable as exc:
        _log.info("%s: nothing to ask (%s)", cycle.id, exc)
        return []
    requests = []
    for unit in units:
        if unit.signs_after_districts != (wave == "provinces"):
            continue
        if awaits_approval(unit):
            requests.append(_signoff_request(settings, cycle, unit))
        else:
            _log.info(
                "%s %s %s: nothing to ask (%s)",
                cycle.id,
                unit.unit_level,
                unit.unit_code,
                _why_not_asked(unit),
            )
    return requests


def _why_not_asked(unit: UnitSignoff) -> str:
    if unit.state == "locked":
        return "the cycle is locked"
    if unit.state == "approved":
        return f"approved by {unit.approved_by}, revision {unit.revision}"
    return "not ready: " + "; ".join(unit.blocking)


def _signoff_request(settings: Settings, cycle: Cycle, unit: UnitSignoff) -> SignoffRequest:
    name = unit.unit_name_vi or unit.unit_code
    reports = sorted(
        str(p)
        for p in (settings.reports / cycle.id).glob(f"{unit.unit_level}_{unit.unit_code}_*")
        if p.suffix in (".html", ".xlsx")
    )
    lines = [
        f"**{name}** ({unit.unit_level} {unit.unit_code}), kỳ báo cáo / cycle **{cycle.id}**.",
        "",
    ]
    if unit.state == "approved":
        lines.append(
            f"Đã phê duyệt bản {unit.revision} ({unit.approved_by}); số liệu đã thay đổi từ đó: "
            f"phê duyệt lại tạo bản mới. / Revision {unit.revision} was approved by "
            f"{unit.approved_by}; the figures have changed since: approving makes a new revision."
        )
    else:
        lines.append(
            "Số liệu đã đủ và đã kiểm tra, chờ phê duyệt. / The figures are complete and "
            "checked, waiting for approval."
        )
    if reports:
        lines += ["", "Báo cáo (bản dự thảo) / Reports (draft):"]
        lines += [f"- `{path}`" for path in reports]
    lines += [
        "",
        f"Chọn **{SIGNOFF_APPROVE}** để phê duyệt với tên người dùng Airflow của bạn (giống "
        f"`cycle approve {cycle.id} {unit.unit_code} --by ...`); **{SIGNOFF_NOT_APPROVED}** "
        "không ghi nhận gì (ghi lý do vào ô ghi chú). / "
        f"**{SIGNOFF_APPROVE}** records the approval under your Airflow user name, as "
        f"`cycle approve {cycle.id} {unit.unit_code} --by ...` does; **{SIGNOFF_NOT_APPROVED}** "
        "records nothing (say why in the comment).",
    ]
    return SignoffRequest(
        unit_level=unit.unit_level,
        unit_code=unit.unit_code,
        unit_name_vi=unit.unit_name_vi,
        subject=f"Phê duyệt / Approve {cycle.id}: {name} ({unit.unit_code})",
        body="\n".join(lines),
    )


def record_signoff_answer(
    settings: Settings,
    cycle: Cycle,
    unit_code: str,
    *,
    chosen: Sequence[str],
    by: str | None,
    comment: str | None = None,
) -> str:
    """Record an answer given in Airflow; returns what was done, in a line for the task's log.

    Approve: `cycle.signoff.approve(..., via='airflow')` with the responder as `by`, then the
    reports it changes (the unit's, the country's), as `cycle approve` does; a unit approved
    meanwhile: nothing new. Not approved: nothing recorded, the responder and the comment
    logged. No answer before the wait ended (`by` None: Airflow chose the default): nothing
    recorded. A refusal (the unit is no longer ready) is logged, not raised: a failed task
    would ask the office again and hold up the other units' final reports. A warehouse held by
    another command is waited for (SIGNOFF_BUSY_PATIENCE)."""
    from cycle.signoff import SignoffRefused, approve

    if by is None:
        outcome = f"{cycle.id} {unit_code}: no answer before the wait ended; nothing recorded"
    elif SIGNOFF_APPROVE not in chosen:
        why = f": {comment}" if comment else ""
        outcome = f"{cycle.id} {unit_code}: not approved by {by}{why}; nothing recorded"
    else:
        try:
            unit = _when_free(
                cycle,
                unit_code,
                lambda: approve(settings, cycle, unit_code, by=by, comment=comment, via="airflow"),
            )
        except SignoffRefused as exc:
            outcome = f"{cycle.id} {unit_code}: the approval by {by} was refused: {exc}"
            _log.warning("%s", outcome)
            return outcome
        if unit.unchanged:
            outcome = (
                f"{cycle.id} {unit_code}: approved already, revision {unit.revision} by "
                f"{unit.approved_by} ({unit.approved_via}); nothing new recorded for {by}"
            )
        else:
            reports = _when_free(cycle, unit_code, lambda: report(settings, cycle))
            outcome = (
                f"{cycle.id} {unit_code}: approved by {by}, revision {unit.revision}; "
                f"{len(reports.reports) - reports.unchanged} report(s) written again"
            )
    _log.info("%s", outcome)
    return outcome


SIGNOFF_BUSY_PATIENCE = 30 * 60.0
"""Seconds an answer waits for a warehouse held by another command (a `cycle run` by hand)
before its task fails: a failed question is retried by asking the office again."""


def _when_free(cycle: Cycle, unit_code: str, action: Callable[[], _R]) -> _R:
    """`action()`, tried again while another command holds the warehouse."""
    from core.warehouse import WarehouseBusy

    deadline = time.monotonic() + SIGNOFF_BUSY_PATIENCE
    while True:
        try:
            return action()
        except WarehouseBusy as exc:  # the action waited CYCLE_LOCK_WAIT seconds already
            if time.monotonic() >= deadline:
                raise
            _log.info("%s %s: %s; the answer waits", cycle.id, unit_code, exc)
            time.sleep(1.0)
