"""Compose one email per office from the cycle's missing returns and quality findings.

The office of a row is its district before the reform and its province after it. An office's
message lists, per commune and agency (the reporter that has to act), its missing return with
the deadline and each finding with its message and values: Vietnamese first, then an English
summary, then how to fix. Nothing in it comes from another office's rows.
"""

from __future__ import annotations

import email.policy
import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from email.header import Header
from email.headerregistry import BaseHeader, HeaderRegistry, UniqueUnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from email.utils import formatdate
from functools import cache, cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.contacts import Contact, ContactBook, display_name, in_sentence
from core.cycles import Cycle
from core.reference import UnitLevel, reference
from core.text import format_vi_number
from core.values import day, is_missing, text

Value = int | float | str | None
GroupKind = Literal["commune", "agency", "unit"]

DEFAULT_FROM = "CT-TE <ct-te.noreply@example.gov.vn>"

_SEVERITY_ORDER = {"error": 0, "warning": 1}
_KIND_ORDER = {"commune": 0, "agency": 1, "unit": 2}
_AGENCY_ORDER = {"health": 0, "education": 1, "police": 2}


@dataclass(frozen=True)
class Finding:
    """One row of marts.fct_quality_issues, values made comparable."""

    rule_id: str
    severity: str
    reporter_code: str | None
    unit_code: str | None
    unit_name: str | None
    element_code: str | None
    indicator_code: str | None
    observed_value: Value
    expected_value: Value
    message_vi: str
    message_en: str

    def key(self) -> list[Any]:
        return [
            self.rule_id,
            self.severity,
            self.reporter_code,
            self.unit_code,
            self.element_code,
            self.indicator_code,
            self.observed_value,
            self.expected_value,
            self.message_vi,
            self.message_en,
        ]


@dataclass
class ReporterItems:
    """What one commune or agency (or, for rows without a reporter, one unit) has to fix."""

    code: str
    name: str
    kind: GroupKind
    deadline: date | None
    missing: bool = False
    findings: list[Finding] = field(default_factory=list)

    def sort_key(self) -> tuple[int, int, str]:
        agency = self.code.rsplit("-", 1)[-1] if self.kind == "agency" else ""
        return (_KIND_ORDER[self.kind], _AGENCY_ORDER.get(agency, 9), self.code)


@dataclass
class OfficeAlert:
    """One office's alert for a cycle. The wording is composed on first use: a re-run that
    finds an office unchanged needs only its fingerprint."""

    cycle: Cycle
    office_code: str
    office_level: UnitLevel
    office_name: str
    contact: Contact | None
    reporters: list[ReporterItems]
    fingerprint: str
    from_email: str = DEFAULT_FROM
    pending: PendingRevision | None = None

    @cached_property
    def subject(self) -> str:
        return subject(self)

    @cached_property
    def text(self) -> str:
        return render("alert.txt.j2", self)

    @cached_property
    def html(self) -> str:
        return render("alert.html.j2", self)

    @cached_property
    def message(self) -> EmailMessage:
        return email_message(self, self.from_email)

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.contact.emails if self.contact else ()

    @property
    def missing_count(self) -> int:
        return sum(r.missing for r in self.reporters)

    @property
    def finding_count(self) -> int:
        return sum(len(r.findings) for r in self.reporters)

    @property
    def error_count(self) -> int:
        return sum(f.severity == "error" for r in self.reporters for f in r.findings)

    @property
    def warning_count(self) -> int:
        return self.finding_count - self.error_count

    @property
    def deadline(self) -> date | None:
        """The reporters' deadline when they share one."""
        deadlines = {r.deadline for r in self.reporters if r.deadline}
        return deadlines.pop() if len(deadlines) == 1 else None


@dataclass(frozen=True)
class PendingRevision:
    """The office's unit is approved and figures changed since (issue 15): its published
    report keeps the revision signed until it is approved again."""

    revision: int
    figures: int
    returns: int


@dataclass
class AlertPlan:
    """The alerts a cycle calls for, before anything is sent."""

    cycle: Cycle
    alerts: list[OfficeAlert]
    problems: list[str] = field(default_factory=list)
    has_contacts: bool = True
    """False when the contacts file gives no address at all (missing, unreadable, empty)."""


# -- reading the marts' rows ------------------------------------------------------------------


def _code(value: Any, width: int) -> str | None:
    """Codes as text with their leading zeros, whatever type the mart gave them."""
    if isinstance(value, float) and not math.isnan(value) and value.is_integer():
        value = int(value)
    code = text(value)
    if code is None:
        return None
    return code.zfill(width) if code.isdigit() else code


def _reporter_code(value: Any) -> str | None:
    return _code(value, 5)


def _unit_code(value: Any) -> str | None:
    """A commune (5 digits, 4 once its leading zero is lost) or a district/province code."""
    code = _code(value, 0)
    return code.zfill(5) if code and code.isdigit() and len(code) == 4 else code


def _value(value: Any) -> Value:
    """A value comparable across runs and backends: 1234.0, Decimal('1234') and '1234' -> 1234."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) or hasattr(value, "item"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value).strip() or None
        return int(number) if number.is_integer() else round(number, 6)
    written = str(value).strip()
    if not written:
        return None
    try:
        number = float(written)
    except ValueError:
        return written
    if math.isfinite(number):
        return int(number) if number.is_integer() else round(number, 6)
    return written


def _received(value: Any) -> bool:
    if is_missing(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in {"true", "t", "1", "yes"}
    return bool(value)


def _records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Rows as dicts of plain Python values (much faster than DataFrame.to_dict)."""
    columns = [str(c) for c in frame.columns]
    for values in zip(*(frame[c].tolist() for c in columns), strict=True):
        yield dict(zip(columns, values, strict=True))


# -- composing --------------------------------------------------------------------------------


def compose_alerts(
    cycle: Cycle,
    return_status: pd.DataFrame,
    quality_issues: pd.DataFrame,
    contacts: ContactBook,
    from_email: str = DEFAULT_FROM,
    signoff_states: pd.DataFrame | None = None,
) -> AlertPlan:
    """One alert per office that has a missing return, a finding or a revision pending (its
    unit approved, figures changed since: `signoff_states`, rows of marts.fct_signoff_states),
    in office-code order.

    A finding that only repeats that a reporter's return is missing (no element, no indicator,
    for a reporter already listed as missing) is not listed twice.
    """
    level: UnitLevel = cycle.version.agency_level
    office_column = "district_code" if level == "district" else "province_code"
    width = 3 if level == "district" else 2
    plan = AlertPlan(
        cycle=cycle,
        alerts=[],
        problems=list(contacts.problems),
        has_contacts=bool(contacts.contacts),
    )
    groups: dict[str, dict[str, ReporterItems]] = {}
    deadlines: dict[str, date | None] = {}
    names: dict[str, str] = {}
    unrouted = 0

    for row in _records(return_status):
        code = _reporter_code(row.get("reporter_code"))
        if code is None:
            continue
        deadline = day(row.get("deadline"))
        deadlines[code] = deadline
        names[code] = text(row.get("reporter_name")) or _reporter_name(code, cycle) or code
        if _received(row.get("received")):
            continue
        office = _code(row.get(office_column), width)
        if office is None:
            unrouted += 1
            continue
        kind: GroupKind = (
            "agency" if text(row.get("reporter_kind")) == "agency" or "-" in code else "commune"
        )
        items = groups.setdefault(office, {}).setdefault(
            code, ReporterItems(code=code, name=names[code], kind=kind, deadline=deadline)
        )
        items.missing = True

    for row in _records(quality_issues):
        office = _code(row.get(office_column), width)
        if office is None:
            unrouted += 1
            continue
        finding = Finding(
            rule_id=text(row.get("rule_id")) or "?",
            severity=(text(row.get("severity")) or "warning").lower(),
            reporter_code=_reporter_code(row.get("reporter_code")),
            unit_code=_unit_code(row.get("unit_code")),
            unit_name=text(row.get("unit_name")),
            element_code=text(row.get("element_code")),
            indicator_code=text(row.get("indicator_code")),
            observed_value=_value(row.get("observed_value")),
            expected_value=_value(row.get("expected_value")),
            message_vi=text(row.get("message_vi")) or "",
            message_en=text(row.get("message_en")) or "",
        )
        office_groups = groups.setdefault(office, {})
        if finding.reporter_code:
            code = finding.reporter_code
            existing = office_groups.get(code)
            if (
                existing is not None
                and existing.missing
                and not finding.element_code
                and not finding.indicator_code
            ):
                continue
            kind = "agency" if "-" in code else "commune"
            name = names.get(code) or _reporter_name(code, cycle) or code
            key = code
        else:
            code = finding.unit_code or office
            kind, key = "unit", f"unit:{code}"
            name = finding.unit_name or code
        items = office_groups.setdefault(
            key, ReporterItems(code=code, name=name, kind=kind, deadline=deadlines.get(code))
        )
        items.findings.append(finding)

    if unrouted:
        column = office_column
        plan.problems.append(
            f"{unrouted} dòng không có mã {'huyện' if level == 'district' else 'tỉnh'} nên không "
            f"gửi được / rows without a {column} could not be routed to an office"
        )

    pending: dict[str, PendingRevision] = {}
    for row in _records(signoff_states) if signoff_states is not None else ():
        office = _code(row.get("unit_code"), width)
        if row.get("unit_level") == level and office and row.get("pending_revision") is True:
            pending[office] = PendingRevision(
                int(row["revision"]), int(row["figures_pending"]), int(row["returns_pending"])
            )

    for office in sorted(set(groups) | set(pending)):
        reporters = sorted(groups.get(office, {}).values(), key=ReporterItems.sort_key)
        for items in reporters:
            items.findings.sort(
                key=lambda f: (
                    _SEVERITY_ORDER.get(f.severity, 2),
                    f.unit_code or "",
                    f.rule_id,
                    f.element_code or f.indicator_code or "",
                    json.dumps(f.key(), default=str),
                )
            )
        reporters = [r for r in reporters if r.missing or r.findings]
        if reporters or office in pending:
            plan.alerts.append(
                _office_alert(
                    cycle,
                    office,
                    level=level,
                    reporters=reporters,
                    contacts=contacts,
                    from_email=from_email,
                    pending=pending.get(office),
                )
            )
    return plan


def fingerprint(reporters: Iterable[ReporterItems], pending: PendingRevision | None = None) -> str:
    """sha256 of the missing returns, findings and revision pending (not of names, wording
    or contacts)."""
    missing: list[str] = []
    findings: list[str] = []
    for items in reporters:
        if items.missing:
            deadline = items.deadline.isoformat() if items.deadline else None
            missing.append(json.dumps([items.code, deadline]))
        findings.extend(json.dumps(f.key(), ensure_ascii=False) for f in items.findings)
    facts: dict[str, Any] = {"missing": sorted(missing), "findings": sorted(findings)}
    if pending is not None:  # absent otherwise: alerts sent before sign-off keep their digest
        facts["pending_revision"] = [pending.revision, pending.figures, pending.returns]
    content = json.dumps(facts, ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _reporter_name(code: str, cycle: Cycle) -> str | None:
    reporter = reference().reporter(code, cycle.hierarchy)
    return reporter.name_vi if reporter else None


def _office_alert(
    cycle: Cycle,
    office: str,
    *,
    level: UnitLevel,
    reporters: list[ReporterItems],
    contacts: ContactBook,
    from_email: str,
    pending: PendingRevision | None = None,
) -> OfficeAlert:
    unit = reference().unit(cycle.hierarchy, level, office)
    contact = contacts.lookup(office, level)
    if unit is not None:
        office_name = display_name(unit.name_vi)
    elif contact is not None and contact.office_name:
        office_name = contact.office_name
    else:
        office_name = f"{'Huyện' if level == 'district' else 'Tỉnh'} {office}"
    alert = OfficeAlert(
        cycle=cycle,
        office_code=office,
        office_level=level,
        office_name=office_name,
        contact=contact,
        reporters=reporters,
        fingerprint=fingerprint(reporters, pending),
        from_email=from_email,
        pending=pending,
    )
    return alert


# -- wording: alerts/templates/ (wording.j2 holds the sentences) ------------------------------

_TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        vi_date=_vi_date,
        vi_value=_vi_value,
        en_value=_en_value,
        in_sentence=in_sentence,
        text=str,  # see alert.html.j2
    )
    env.globals["describe"] = _subject_of_finding
    return env


def render(template: str, alert: OfficeAlert) -> str:
    return _environment().get_template(template).render(alert=alert)


def subject(alert: OfficeAlert) -> str:
    """'[CT-TE 2024-Y] Huyện Như Xuân: 3 báo cáo chưa nộp, 5 lỗi số liệu / 3 missing returns,
    5 data problems'."""
    wording: Any = _environment().get_template("wording.j2").module
    return str(wording.subject(alert))


def _vi_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "—"


def _vi_value(value: Value) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return format_vi_number(value)
    if isinstance(value, float):
        return format_vi_number(value, 1 if round(value, 1) == value else 2)
    return value


def _en_value(value: Value) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{1 if round(value, 1) == value else 2}f}"
    return value


def _subject_of_finding(finding: Finding, items: ReporterItems, lang: str) -> str:
    """What a finding is about: the commune (when the reporter is an agency) and the figure."""
    parts = []
    if finding.unit_code and finding.unit_code != items.code:
        parts.append(f"{finding.unit_name or finding.unit_code} ({finding.unit_code})")
    ref = reference()
    if finding.element_code:
        element = ref.elements.get(finding.element_code)
        name = (element.name_vi if lang == "vi" else element.name_en) if element else None
        parts.append(f"{name} ({finding.element_code})" if name else finding.element_code)
    elif finding.indicator_code:
        indicator = ref.indicators.get(finding.indicator_code)
        name = (indicator.name_vi if lang == "vi" else indicator.name_en) if indicator else None
        parts.append(f"{finding.indicator_code} {name}" if name else finding.indicator_code)
    return " · ".join(parts)


class _Subject(UniqueUnstructuredHeader, BaseHeader):
    """A subject folded by email.header.Header, which keeps every space inside an encoded word.
    Python 3.11's own folding may leave the space between two encoded words as the folding
    white space, which readers drop (RFC 2047): "báo cáochưa nộp"."""

    max_count: ClassVar[Literal[1]] = 1

    def fold(self, *, policy: Policy) -> str:
        maxlen = policy.max_line_length or 78
        value = Header(str(self), header_name=self.name, maxlinelen=maxlen)
        return f"{self.name}: {value.encode(linesep=policy.linesep)}{policy.linesep}"


class _Headers(HeaderRegistry):
    """The email package's registry with the subject folded by `_Subject`, and each header's
    class built once: the registry builds a new class for every header it parses (some 30 per
    message, each left for the cyclic garbage collector)."""

    def __init__(self) -> None:
        super().__init__()
        self.map_to_type("subject", _Subject)
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        found = self._classes.get(name)
        if found is None:
            found = self._classes[name] = super().__getitem__(name)
        return found


def _message_policy() -> EmailPolicy[EmailMessage]:
    return email.policy.default.clone(header_factory=_Headers())


MESSAGE_POLICY = _message_policy()


def message_id(alert: OfficeAlert, domain: str) -> str:
    """The same for the same cycle, office and content, whenever and however often it is sent,
    so that a server or mail client holding it can drop a copy sent again."""
    return f"<ct-te.{alert.cycle.id}.{alert.office_code}.{alert.fingerprint[:24]}@{domain}>"


def email_message(alert: OfficeAlert, from_email: str) -> EmailMessage:
    """The alert as a MIME message: text/plain and text/html alternatives, UTF-8,
    quoted-printable (7-bit safe for any relay)."""
    message = EmailMessage(policy=MESSAGE_POLICY)
    message["Subject"] = alert.subject
    message["From"] = from_email
    if alert.recipients:
        # Bare addresses: the office is named in the greeting, and folding a Vietnamese
        # display name costs ~14 ms a message in the email package (and a CPython parser bug
        # puts a space into it on the receiving side).
        message["To"] = ", ".join(alert.recipients)
    message["Date"] = formatdate(localtime=True)
    domain = from_email.rsplit("@", 1)[-1].strip(" >") or "example.gov.vn"
    message["Message-ID"] = message_id(alert, domain)
    message["X-CT-TE-Cycle"] = alert.cycle.id
    message["X-CT-TE-Office"] = alert.office_code
    # the first 16 hex digits: the full 64 would fold onto a line of their own
    message["X-CT-TE-Fingerprint"] = alert.fingerprint[:16]
    message.set_content(alert.text, cte="quoted-printable")
    message.add_alternative(alert.html, subtype="html", cte="quoted-printable")
    return message
