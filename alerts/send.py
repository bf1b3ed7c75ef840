"""Send each office its alert for a cycle, once per change, and log every attempt.

`send_alerts` does not raise for an office without an address or an SMTP server that cannot be
reached: every office is tried and logged, and the summary says which did not get their alert
and why (`AlertSummary.raise_if_undelivered` turns that into an error for the step). Only a
warehouse without the quality marts (the step before has not run) is an error here.

A message the server took whole but whose reply was lost (the connection dropped, a time-out)
is `uncertain`: it may have been delivered, so it is never sent again unasked; it is re-sent
with `resend_uncertain` (`cycle alert CYCLE --resend-uncertain`), under the same Message-ID.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from alerts.compose import DEFAULT_FROM, AlertPlan, OfficeAlert, compose_alerts
from alerts.contacts import read_contacts
from alerts.log import AlertLog, LogEntry, LogStatus, last_delivered, record_run
from alerts.queries import read_quality_issues, read_return_status, read_signoff_states
from alerts.smtp import (
    DeliveryUncertain,
    SmtpConfig,
    SmtpConfigError,
    SmtpNotConfigured,
    SmtpSender,
    SmtpUnavailable,
    smtp_config,
)
from core.cycles import Cycle
from core.memory import collector_paused
from core.settings import Settings
from core.warehouse import Warehouse, WarehouseConnection

OfficeStatus = Literal["sent", "failed", "dry_run", "unchanged", "no_contact", "uncertain"]

NO_CONTACT = "không có địa chỉ thư / no contact address for this office"
UNCERTAIN = (
    "máy chủ đã nhận thư nhưng mất kết nối trước khi xác nhận, thư có thể đã đến / the server "
    "took the message but the connection was lost before it confirmed: it may have arrived"
)
UNCERTAIN_EARLIER = (
    "lần gửi trước không rõ đã đến chưa, không tự gửi lại / an earlier attempt may have been "
    "delivered: not re-sent unasked"
)
RESENT = "gửi lại theo yêu cầu / re-sent on request (--resend-uncertain)"
LIST_LIMIT = 20


class AlertsNotDelivered(RuntimeError):
    """Offices that needed an alert did not get it, or may not have: the alert step fails (the
    Airflow task is marked failed and retried). The first line says how many and why."""

    def __init__(self, message: str, summary: AlertSummary | None = None) -> None:
        super().__init__(message)
        self.summary = summary

    @property
    def headline(self) -> str:
        return str(self).splitlines()[0]


@dataclass(frozen=True)
class OfficeOutcome:
    office_code: str
    office_name: str
    recipients: tuple[str, ...]
    missing_count: int
    finding_count: int
    status: OfficeStatus
    error: str | None = None


@dataclass
class AlertSummary:
    """What one `send_alerts` run did, office by office."""

    cycle: str
    dry_run: bool
    warehouse: str
    contacts: Path
    smtp: str | None = None
    contacts_problem: str | None = None
    """Set when the contacts file gives no address at all (missing, unreadable, empty)."""
    outcomes: list[OfficeOutcome] = field(default_factory=list)
    messages: list[EmailMessage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def _with(self, status: OfficeStatus) -> list[OfficeOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def alerted(self) -> list[OfficeOutcome]:
        return self._with("sent")

    @property
    def previewed(self) -> list[OfficeOutcome]:
        """Dry run: the offices that a real run would send to."""
        return self._with("dry_run")

    @property
    def skipped_unchanged(self) -> list[OfficeOutcome]:
        return self._with("unchanged")

    @property
    def without_contacts(self) -> list[OfficeOutcome]:
        return self._with("no_contact")

    @property
    def failed(self) -> list[OfficeOutcome]:
        return self._with("failed")

    @property
    def uncertain(self) -> list[OfficeOutcome]:
        """Taken whole by the server without a reply, in this run or an earlier one."""
        return self._with("uncertain")

    @property
    def ok(self) -> bool:
        """Every office that needed an alert has one (or, dry run, would get one)."""
        return not self.failed and not self.without_contacts and not self.uncertain

    def resend_hint(self) -> str:
        return f"gửi lại / to re-send: cycle alert {self.cycle} --resend-uncertain"

    def undelivered(self) -> str | None:
        """Why the step fails, in one line; None when it does not: a dry run, or every office
        alerted except those the contacts file has no address for (a warning, see
        `contacts_warning`), unless the file gives no address at all."""
        if self.dry_run:
            return None
        unusable = self.without_contacts if self.contacts_problem else []
        count = len(self.failed) + len(self.uncertain) + len(unusable)
        if not count:
            return None
        reasons = []
        if self.failed:
            first = next((o.error for o in self.failed if o.error), "")
            reasons.append(f"gửi không được / failed: {len(self.failed)} ({first})")
        if self.uncertain:
            reasons.append(
                f"không rõ đã đến chưa / delivery uncertain: {len(self.uncertain)} "
                f"({self.resend_hint()})"
            )
        if unusable:
            reasons.append(f"{self.contacts_problem}")
        return (
            f"Cảnh báo {self.cycle}: {count} đơn vị chưa nhận được thư / alerts of {self.cycle} "
            f"not delivered to {_offices(count)}: " + "; ".join(reasons)
        )

    def raise_if_undelivered(self) -> None:
        """Raise AlertsNotDelivered (its first line `undelivered()`, then the summary)."""
        reason = self.undelivered()
        if reason:
            raise AlertsNotDelivered(f"{reason}\n{self.format()}", self)

    def contacts_warning(self) -> str | None:
        """The offices the contacts file has no address for (their alerts wait for one; the
        next run sends them), when the file has addresses for others."""
        if not self.without_contacts or self.contacts_problem:
            return None
        offices = ", ".join(
            f"{o.office_code} {o.office_name}" for o in self.without_contacts[:LIST_LIMIT]
        )
        more = len(self.without_contacts) - LIST_LIMIT
        count = len(self.without_contacts)
        return (
            f"Cảnh báo {self.cycle}: {count} đơn vị không có địa chỉ thư, chưa gửi / "
            f"{_offices(count)} without an address, not alerted (thêm vào / add them to "
            f"{self.contacts}): {offices}" + (f" … và / and {more} more" if more > 0 else "")
        )

    def format(self, show_messages: bool = False) -> str:
        """The summary for a terminal or a task log; with the messages' text for a dry run."""
        mode = " (thử, không gửi / dry run, nothing sent)" if self.dry_run else ""
        lines = [
            f"Cảnh báo / Alerts {self.cycle}{mode}: {len(self.outcomes)} đơn vị có báo cáo chưa "
            f"nộp hoặc lỗi số liệu / offices with missing returns or data problems",
        ]
        if self.smtp:
            lines.append(f"  SMTP: {self.smtp}")
        if self.dry_run:
            lines.append(f"  sẽ gửi / would send: {len(self.previewed)}")
        else:
            lines.append(f"  đã gửi / sent: {len(self.alerted)}")
        lines.append(
            f"  không đổi, không gửi lại / unchanged, not sent again: {len(self.skipped_unchanged)}"
        )
        for label, outcomes in (
            ("không có địa chỉ / without contacts", self.without_contacts),
            ("gửi không được / failed", self.failed),
            ("không rõ đã đến chưa / delivery uncertain", self.uncertain),
        ):
            lines.append(f"  {label}: {len(outcomes)}")
            for outcome in outcomes[:LIST_LIMIT]:
                error = (
                    f": {outcome.error}" if outcome.error and outcome.status != "no_contact" else ""
                )
                lines.append(f"    {outcome.office_code} {outcome.office_name}{error}")
            if len(outcomes) > LIST_LIMIT:
                lines.append(f"    … và / and {len(outcomes) - LIST_LIMIT} more")
        if self.uncertain:
            lines.append(f"    {self.resend_hint()}")
        refused = [o for o in self.alerted if o.error]
        for outcome in refused[:LIST_LIMIT]:
            lines.append(f"  {outcome.office_code}: {outcome.error}")
        for problem in self.problems:
            lines.append(f"  ! {problem}")
        lines.append(f"  nhật ký / log: ops.step_ledger (step alert) in {self.warehouse}")
        if show_messages:
            for message in self.messages:
                lines += ["", "=" * 72, preview(message)]
        return "\n".join(lines)


def _offices(count: int) -> str:
    return f"{count} office" if count == 1 else f"{count} offices"


def preview(message: EmailMessage) -> str:
    """A message as a person would read it: headers and the text part."""
    body = message.get_body(("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    headers = [
        f"{name}: {message[name]}"
        for name in ("From", "To", "Subject")
        if message[name] is not None
    ]
    if message["To"] is None:
        headers.append(f"To: ({NO_CONTACT})")
    return "\n".join(headers) + "\n\n" + text


def build_alerts(settings: Settings, cycle: Cycle, *, from_email: str | None = None) -> AlertPlan:
    """Compose the cycle's alerts from the marts and the contacts file; send nothing, log
    nothing. The sender is `from_email`, else the SMTP connection's, else a placeholder."""
    if from_email is None:
        try:
            from_email = smtp_config().from_email
        except SmtpConfigError:
            from_email = None
    with Warehouse(settings.warehouse).connect() as con:
        return _plan(con, settings, cycle, from_email or DEFAULT_FROM)


def send_alerts(
    settings: Settings,
    cycle: Cycle,
    dry_run: bool = False,
    smtp_conn: str | None = None,
    resend_uncertain: bool = False,
) -> AlertSummary:
    """Send every office with missing returns or findings its alert, unless it has already
    received this exact content (or may have: `uncertain`, re-sent only with
    `resend_uncertain`); log each office's outcome in the ledger (alerts.log).

    `smtp_conn`: a connection in Airflow's URI or JSON form, or a connection id read from
    `AIRFLOW_CONN_<ID>`; default `AIRFLOW_CONN_SMTP_DEFAULT`. A dry run composes the same
    messages, returns them in the summary, logs them as `dry_run` and sends nothing; it needs
    no SMTP connection and does not stop a later real run from sending.
    """
    config: SmtpConfig | None = None
    config_error: str | None = None
    problems: list[str] = []
    try:
        config = smtp_config(smtp_conn)
    except SmtpNotConfigured as exc:
        config_error = str(exc)
    except SmtpConfigError as exc:
        config_error = str(exc)
        if dry_run:  # a real run would fail on it: say so now
            problems.append(f"SMTP: {config_error}")
    if config is not None and not config.from_email and not dry_run:
        config_error = (
            "the SMTP connection has no from_email extra (Airflow's SmtpHook needs "
            "it too): add ?from_email=... to the URI"
        )
    from_email = config.from_email if config and config.from_email else DEFAULT_FROM

    summary = AlertSummary(
        cycle=cycle.id,
        dry_run=dry_run,
        warehouse=Warehouse(settings.warehouse).describe(),
        contacts=settings.contacts,
        smtp=config.describe() if config else None,
        problems=problems,
    )
    with Warehouse(settings.warehouse).connect() as con:
        plan = _plan(con, settings, cycle, from_email)
        summary.problems.extend(plan.problems)
        if not plan.has_contacts:
            summary.contacts_problem = next(iter(plan.problems), NO_CONTACT)
        seen = last_delivered(con, cycle)
        with AlertLog(con) as log:
            pending: list[OfficeAlert] = []
            resending: set[str] = set()
            for alert in plan.alerts:
                last = seen.get(alert.office_code)
                if last == (alert.fingerprint, "sent"):
                    summary.outcomes.append(_outcome(alert, "unchanged"))
                elif last == (alert.fingerprint, "uncertain") and not resend_uncertain:
                    summary.outcomes.append(_outcome(alert, "uncertain", UNCERTAIN_EARLIER))
                elif not alert.recipients:
                    _log(log, alert, "dry_run" if dry_run else "failed", NO_CONTACT)
                    summary.outcomes.append(_outcome(alert, "no_contact", NO_CONTACT))
                    if dry_run:
                        summary.messages.append(alert.message)
                else:
                    pending.append(alert)
                    if last == (alert.fingerprint, "uncertain"):
                        resending.add(alert.office_code)

            if dry_run:
                for alert in pending:
                    _log(log, alert, "dry_run")
                    summary.outcomes.append(_outcome(alert, "dry_run"))
                    summary.messages.append(alert.message)
            elif config is None or config_error:
                if pending:
                    summary.problems.append(f"SMTP: {config_error}")
                for alert in pending:
                    _log(log, alert, "failed", config_error)
                    summary.outcomes.append(_outcome(alert, "failed", config_error))
            else:
                _deliver(log, config, pending, summary, resending)
        if not dry_run:
            record_run(con, cycle)
    summary.outcomes.sort(key=lambda o: o.office_code)
    return summary


def _plan(con: WarehouseConnection, settings: Settings, cycle: Cycle, from_email: str) -> AlertPlan:
    return compose_alerts(
        cycle,
        read_return_status(con, cycle),
        read_quality_issues(con, cycle),
        read_contacts(settings.contacts),
        from_email,
        read_signoff_states(con, cycle),
    )


def _deliver(
    log: AlertLog,
    config: SmtpConfig,
    pending: list[OfficeAlert],
    summary: AlertSummary,
    resending: set[str],
) -> None:
    """Send over one SMTP session; once the server is out of reach, the rest fail at once
    (rather than each waiting for its own time-out). A message whose outcome is uncertain is
    not sent again; the next office gets a new connection.

    The cyclic garbage collector waits until the end: composing and sending a message leaves
    thousands of small objects (header parse trees), which it would otherwise scan again and
    again with every message kept so far."""
    unreachable: str | None = None
    sender = SmtpSender(config)  # connects on the first message
    with collector_paused():
        try:
            for alert in pending:
                if unreachable is None:
                    try:
                        refused = sender.send(alert.message, alert.recipients)
                    except SmtpUnavailable as exc:
                        unreachable = (
                            f"không kết nối được máy chủ thư / SMTP server unreachable: {exc}"
                        )
                        summary.problems.append(unreachable)
                    except DeliveryUncertain as exc:
                        error = f"{UNCERTAIN} ({exc})"
                        _log(log, alert, "uncertain", error)
                        summary.outcomes.append(_outcome(alert, "uncertain", error))
                        continue
                    except smtplib.SMTPException as exc:
                        error = f"máy chủ thư từ chối / refused by the SMTP server: {exc}"
                        _log(log, alert, "failed", error)
                        summary.outcomes.append(_outcome(alert, "failed", error))
                        continue
                    except Exception as exc:  # one office's failure must not stop the others
                        error = f"gửi lỗi / sending failed: {type(exc).__name__}: {exc}"
                        _log(log, alert, "failed", error)
                        summary.outcomes.append(_outcome(alert, "failed", error))
                        continue
                    else:
                        notes = [RESENT] if alert.office_code in resending else []
                        if refused:
                            notes.append(
                                "một số địa chỉ bị từ chối / some addresses refused: "
                                + "; ".join(f"{a} ({why})" for a, why in refused.items())
                            )
                        note = "; ".join(notes) or None
                        _log(log, alert, "sent", note)
                        summary.outcomes.append(_outcome(alert, "sent", note))
                        continue
                _log(log, alert, "failed", unreachable)
                summary.outcomes.append(_outcome(alert, "failed", unreachable))
        finally:
            sender.close()


def _outcome(alert: OfficeAlert, status: OfficeStatus, error: str | None = None) -> OfficeOutcome:
    return OfficeOutcome(
        office_code=alert.office_code,
        office_name=alert.office_name,
        recipients=alert.recipients,
        missing_count=alert.missing_count,
        finding_count=alert.finding_count,
        status=status,
        error=error,
    )


def _log(log: AlertLog, alert: OfficeAlert, status: LogStatus, error: str | None = None) -> None:
    log.add(
        LogEntry(
            cycle=alert.cycle.id,
            office_code=alert.office_code,
            recipients=alert.recipients,
            subject=alert.subject,
            fingerprint=alert.fingerprint,
            finding_count=alert.finding_count,
            missing_count=alert.missing_count,
            status=status,
            error=error,
        )
    )
