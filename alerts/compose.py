"""Compose one email per office from the cycle's missing returns and quality findings.

The office of a row is its district before the reform and its province after it. An office's
message lists, per commune and agency (the reporter that has to act), its missing return with
the deadline and each finding with its message and values: Vietnamese first, then an English
summary, then how to fix. Nothing in it comes from another office's rows.
"""

from __future__ import annotations

import email.policy
import hashlib
import html
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from email.header import Header
from email.headerregistry import BaseHeader, HeaderRegistry, UniqueUnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy
from email.utils import formatdate
from functools import cached_property
from typing import Any, ClassVar, Literal

import pandas as pd

from alerts.contacts import Contact, ContactBook, display_name, in_sentence
from core.cycles import Cycle
from core.reference import UnitLevel, reference
from core.text import format_vi_number

Value = int | float | str | None
GroupKind = Literal["commune", "agency", "unit"]

DEFAULT_FROM = "CT-TE <ct-te.noreply@example.gov.vn>"
SUBJECT_TAG = "CT-TE"
"""Chương trình hành động vì trẻ em: the programme of action for children."""

_SEVERITY_ORDER = {"error": 0, "warning": 1}
_SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
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

    @cached_property
    def subject(self) -> str:
        return subject(self)

    @cached_property
    def text(self) -> str:
        return render_text(self)

    @cached_property
    def html(self) -> str:
        return render_html(self)

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


@dataclass
class AlertPlan:
    """The alerts a cycle calls for, before anything is sent."""

    cycle: Cycle
    alerts: list[OfficeAlert]
    problems: list[str] = field(default_factory=list)
    has_contacts: bool = True
    """False when the contacts file gives no address at all (missing, unreadable, empty)."""


# -- reading the marts' rows ------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str | None:
    if _is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def _code(value: Any, width: int) -> str | None:
    """Codes as text with their leading zeros, whatever type the mart gave them."""
    if isinstance(value, float) and not math.isnan(value) and value.is_integer():
        value = int(value)
    text = _text(value)
    if text is None:
        return None
    return text.zfill(width) if text.isdigit() else text


def _reporter_code(value: Any) -> str | None:
    return _code(value, 5)


def _unit_code(value: Any) -> str | None:
    """A commune (5 digits, 4 once its leading zero is lost) or a district/province code."""
    text = _code(value, 0)
    return text.zfill(5) if text and text.isdigit() and len(text) == 4 else text


def _value(value: Any) -> Value:
    """A value comparable across runs and backends: 1234.0, Decimal('1234') and '1234' -> 1234."""
    if _is_missing(value):
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
    text = str(value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number):
        return int(number) if number.is_integer() else round(number, 6)
    return text


def _date(value: Any) -> date | None:
    if _is_missing(value):
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _received(value: Any) -> bool:
    if _is_missing(value):
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
) -> AlertPlan:
    """One alert per office that has a missing return or a finding, in office-code order.

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
        deadline = _date(row.get("deadline"))
        deadlines[code] = deadline
        names[code] = _text(row.get("reporter_name")) or _reporter_name(code, cycle) or code
        if _received(row.get("received")):
            continue
        office = _code(row.get(office_column), width)
        if office is None:
            unrouted += 1
            continue
        kind: GroupKind = (
            "agency" if _text(row.get("reporter_kind")) == "agency" or "-" in code else "commune"
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
            rule_id=_text(row.get("rule_id")) or "?",
            severity=(_text(row.get("severity")) or "warning").lower(),
            reporter_code=_reporter_code(row.get("reporter_code")),
            unit_code=_unit_code(row.get("unit_code")),
            unit_name=_text(row.get("unit_name")),
            element_code=_text(row.get("element_code")),
            indicator_code=_text(row.get("indicator_code")),
            observed_value=_value(row.get("observed_value")),
            expected_value=_value(row.get("expected_value")),
            message_vi=_text(row.get("message_vi")) or "",
            message_en=_text(row.get("message_en")) or "",
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

    for office in sorted(groups):
        reporters = sorted(groups[office].values(), key=ReporterItems.sort_key)
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
        if reporters:
            plan.alerts.append(
                _office_alert(
                    cycle,
                    office,
                    level=level,
                    reporters=reporters,
                    contacts=contacts,
                    from_email=from_email,
                )
            )
    return plan


def fingerprint(reporters: Iterable[ReporterItems]) -> str:
    """sha256 of the missing returns and findings (not of names, wording or contacts)."""
    missing: list[str] = []
    findings: list[str] = []
    for items in reporters:
        if items.missing:
            deadline = items.deadline.isoformat() if items.deadline else None
            missing.append(json.dumps([items.code, deadline]))
        findings.extend(json.dumps(f.key(), ensure_ascii=False) for f in items.findings)
    content = json.dumps(
        {"missing": sorted(missing), "findings": sorted(findings)}, ensure_ascii=False
    )
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
        fingerprint=fingerprint(reporters),
        from_email=from_email,
    )
    return alert


# -- wording ----------------------------------------------------------------------------------


def cycle_label_vi(cycle: Cycle) -> str:
    return f"6 tháng đầu năm {cycle.year}" if cycle.kind == "H1" else f"năm {cycle.year}"


def cycle_label_en(cycle: Cycle) -> str:
    return f"first half of {cycle.year}" if cycle.kind == "H1" else f"year {cycle.year}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def counts_vi(alert: OfficeAlert) -> str:
    parts = []
    if alert.missing_count:
        parts.append(f"{alert.missing_count} báo cáo chưa nộp")
    if alert.finding_count:
        parts.append(f"{alert.finding_count} lỗi số liệu")
    return ", ".join(parts)


def counts_en(alert: OfficeAlert) -> str:
    parts = []
    if alert.missing_count:
        parts.append(_plural(alert.missing_count, "missing return"))
    if alert.finding_count:
        parts.append(_plural(alert.finding_count, "data problem"))
    return ", ".join(parts)


def subject(alert: OfficeAlert) -> str:
    """'[CT-TE 2024-Y] Huyện Như Xuân: 3 báo cáo chưa nộp, 5 lỗi số liệu / 3 missing returns,
    5 data problems'."""
    return (
        f"[{SUBJECT_TAG} {alert.cycle.id}] {alert.office_name}: "
        f"{counts_vi(alert)} / {counts_en(alert)}"
    )


def _severity_counts(alert: OfficeAlert) -> tuple[int, int]:
    errors = sum(f.severity == "error" for r in alert.reporters for f in r.findings)
    return errors, alert.finding_count - errors


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


def _addressee(alert: OfficeAlert) -> str:
    if alert.contact and alert.contact.office_name:
        return alert.contact.office_name
    return f"Cơ quan theo dõi công tác trẻ em {in_sentence(alert.office_name)}"


def _common_deadline(alert: OfficeAlert) -> date | None:
    deadlines = {r.deadline for r in alert.reporters if r.deadline}
    return deadlines.pop() if len(deadlines) == 1 else None


def _kind_vi(items: ReporterItems) -> str:
    return {"commune": "mã xã", "agency": "mã cơ quan", "unit": "mã đơn vị"}[items.kind]


FIX_VI = (
    "Cách khắc phục: đơn vị báo cáo (xã hoặc cơ quan) gửi lại báo cáo đã sửa cho toàn bộ đơn vị "
    "báo cáo, gồm đủ tất cả số liệu của kỳ, không chỉ các số liệu được sửa: báo cáo gửi sau thay "
    "thế toàn bộ báo cáo gửi trước. Đơn vị chưa nộp báo cáo đề nghị nộp ngay."
)
FIX_EN = (
    "How to fix: send a corrected return for the whole reporter (commune or agency), with all "
    "its figures for the cycle, not only the corrected ones: a later return replaces the earlier "
    "one as a whole. Reporters whose return is missing should send it now."
)


def _intro_vi(alert: OfficeAlert) -> list[str]:
    errors, warnings = _severity_counts(alert)
    parts = [f"{errors} lỗi"] * bool(errors) + [f"{warnings} cảnh báo"] * bool(warnings)
    detail = f" ({', '.join(parts)})" if parts else ""
    lines = [
        f"Kính gửi: {_addressee(alert)}",
        "",
        f"Kết quả kiểm tra số liệu kỳ báo cáo {alert.cycle.id} ({cycle_label_vi(alert.cycle)}) "
        f"của Chương trình hành động vì trẻ em: {alert.office_name} (mã {alert.office_code}) có "
        f"{counts_vi(alert)}{detail} tại {len(alert.reporters)} xã/cơ quan, liệt kê dưới đây.",
    ]
    deadline = _common_deadline(alert)
    if deadline:
        lines.append(f"Hạn nộp báo cáo kỳ này: {_vi_date(deadline)}.")
    return lines


def _summary_en(alert: OfficeAlert) -> list[str]:
    errors, warnings = _severity_counts(alert)
    parts = [_plural(errors, "error")] * bool(errors) + [_plural(warnings, "warning")] * bool(
        warnings
    )
    detail = f" ({', '.join(parts)})" if parts else ""
    lines = [
        f"{alert.office_name} ({alert.office_code}), cycle {alert.cycle.id} "
        f"({cycle_label_en(alert.cycle)}): {counts_en(alert)}{detail} in "
        f"{len(alert.reporters)} "
        f"{'commune/agency' if len(alert.reporters) == 1 else 'communes/agencies'}.",
    ]
    for items in alert.reporters:
        parts = []
        if items.missing:
            due = f", due {items.deadline.isoformat()}" if items.deadline else ""
            parts.append(f"return missing{due}")
        for f in items.findings:
            about = _subject_of_finding(f, items, "en")
            parts.append(
                f"{f.severity} {f.rule_id}{f' [{about}]' if about else ''}: {f.message_en} "
                f"(observed {_en_value(f.observed_value)}, expected {_en_value(f.expected_value)})"
            )
        lines.append(f"- {items.name} ({items.code}): " + "; ".join(parts))
    return lines


def render_text(alert: OfficeAlert) -> str:
    lines = [*_intro_vi(alert), ""]
    for number, items in enumerate(alert.reporters, start=1):
        lines.append(f"{number}. {items.name} ({_kind_vi(items)} {items.code})")
        if items.missing:
            deadline = f" Hạn nộp: {_vi_date(items.deadline)}." if items.deadline else ""
            lines.append(f"   - CHƯA NỘP BÁO CÁO.{deadline}")
        for f in items.findings:
            about = _subject_of_finding(f, items, "vi")
            lines.append(
                f"   - [{_SEVERITY_VI.get(f.severity, f.severity)}] "
                f"{about + ': ' if about else ''}{f.message_vi}"
            )
            lines.append(
                f"     Giá trị báo cáo: {_vi_value(f.observed_value)}; "
                f"giá trị hợp lý: {_vi_value(f.expected_value)} (quy tắc {f.rule_id})"
            )
        lines.append("")
    lines += [
        FIX_VI,
        "",
        "-" * 72,
        "English summary",
        *_summary_en(alert),
        "",
        FIX_EN,
        "",
        _footer_vi(alert),
        _footer_en(alert),
    ]
    return "\n".join(lines) + "\n"


def _footer_vi(alert: OfficeAlert) -> str:
    return (
        f"Thư được gửi tự động sau bước kiểm tra chất lượng số liệu, chỉ gồm các xã và cơ "
        f"quan thuộc {alert.office_name}."
    )


def _footer_en(alert: OfficeAlert) -> str:
    return (
        f"Sent automatically after the data-quality checks; it covers only the communes and "
        f"agencies of {alert.office_name}."
    )


def render_html(alert: OfficeAlert) -> str:
    e = html.escape
    cell = 'style="border:1px solid #bbb;padding:4px 6px;vertical-align:top"'
    intro = _intro_vi(alert)
    out = [
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">',
        f"<title>{e(alert.subject)}</title></head>",
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">',
        f"<p>{e(intro[0])}</p>",
        *(f"<p>{e(line)}</p>" for line in intro[2:]),
    ]
    for number, items in enumerate(alert.reporters, start=1):
        out.append(
            f'<h3 style="margin:18px 0 6px">{number}. {e(items.name)} '
            f'<span style="font-weight:normal">({e(_kind_vi(items))} {e(items.code)})'
            f"</span></h3>"
        )
        if items.missing:
            deadline = f" Hạn nộp: {_vi_date(items.deadline)}." if items.deadline else ""
            out.append(
                f'<p style="color:#b00020"><strong>Chưa nộp báo cáo.</strong>{e(deadline)}</p>'
            )
        if items.findings:
            out.append(
                '<table style="border-collapse:collapse">'
                f"<tr><th {cell}>Mức độ</th><th {cell}>Đơn vị / số liệu</th>"
                f"<th {cell}>Nội dung</th><th {cell}>Giá trị báo cáo</th>"
                f"<th {cell}>Giá trị hợp lý</th><th {cell}>Quy tắc</th></tr>"
            )
            for f in items.findings:
                colour = "#b00020" if f.severity == "error" else "#8a6d00"
                out.append(
                    f'<tr><td {cell}><span style="color:{colour}">'
                    f"{e(_SEVERITY_VI.get(f.severity, f.severity))}</span></td>"
                    f"<td {cell}>{e(_subject_of_finding(f, items, 'vi'))}</td>"
                    f"<td {cell}>{e(f.message_vi)}</td>"
                    f'<td {cell} align="right">{e(_vi_value(f.observed_value))}</td>'
                    f'<td {cell} align="right">{e(_vi_value(f.expected_value))}</td>'
                    f"<td {cell}><code>{e(f.rule_id)}</code></td></tr>"
                )
            out.append("</table>")
    summary = _summary_en(alert)
    out += [
        f"<p><strong>{e(FIX_VI)}</strong></p>",
        '<hr><div lang="en"><h3>English summary</h3>',
        f"<p>{e(summary[0])}</p><ul>",
        *(f"<li>{e(line[2:])}</li>" for line in summary[1:]),
        f"</ul><p><strong>{e(FIX_EN)}</strong></p></div>",
        f'<p style="color:#666;font-size:12px">{e(_footer_vi(alert))}<br>'
        f"{e(_footer_en(alert))}</p>",
        "</body></html>",
    ]
    return "\n".join(out) + "\n"


class _Subject(UniqueUnstructuredHeader, BaseHeader):
    """A subject folded by email.header.Header, which keeps every space inside an encoded word.
    Python 3.11's own folding may leave the space between two encoded words as the folding
    white space, which readers drop (RFC 2047): "báo cáochưa nộp"."""

    max_count: ClassVar[Literal[1]] = 1

    def fold(self, *, policy: Policy) -> str:
        maxlen = policy.max_line_length or 78
        value = Header(str(self), header_name=self.name, maxlinelen=maxlen)
        return f"{self.name}: {value.encode(linesep=policy.linesep)}{policy.linesep}"


def _message_policy() -> EmailPolicy[EmailMessage]:
    headers = HeaderRegistry()
    headers.map_to_type("subject", _Subject)
    return email.policy.default.clone(header_factory=headers)


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
