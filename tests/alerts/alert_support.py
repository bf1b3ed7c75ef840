"""Helpers for the alerts' tests: the two quality marts written into a real warehouse the way
the quality step will write them, and a real SMTP server (aiosmtpd) collecting messages."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import pandas as pd

from alerts.log import LogStatus, history
from core.cycles import Cycle
from core.reference import UnitLevel, reference
from core.settings import Settings
from core.warehouse import Warehouse

MARTS_DDL = (
    "create schema if not exists marts",
    "drop table if exists marts.fct_return_status",
    """
    create table marts.fct_return_status (
        cycle varchar, hierarchy varchar, reporter_code varchar, reporter_name varchar,
        reporter_kind varchar, unit_code varchar, district_code varchar, province_code varchar,
        received boolean, on_time boolean, deadline date, submitted_on date
    )
    """,
    "drop table if exists marts.fct_quality_issues",
    """
    create table marts.fct_quality_issues (
        cycle varchar, rule_id varchar, severity varchar, reporter_code varchar,
        unit_code varchar, unit_name varchar, district_code varchar, province_code varchar,
        element_code varchar, indicator_code varchar, observed_value double precision,
        expected_value double precision, message_vi varchar, message_en varchar
    )
    """,
)
STATUS_COLUMNS = (
    "cycle",
    "hierarchy",
    "reporter_code",
    "reporter_name",
    "reporter_kind",
    "unit_code",
    "district_code",
    "province_code",
    "received",
    "on_time",
    "deadline",
    "submitted_on",
)
ISSUE_COLUMNS = (
    "cycle",
    "rule_id",
    "severity",
    "reporter_code",
    "unit_code",
    "unit_name",
    "district_code",
    "province_code",
    "element_code",
    "indicator_code",
    "observed_value",
    "expected_value",
    "message_vi",
    "message_en",
)


# -- the marts --------------------------------------------------------------------------------


@dataclass
class Marts:
    """Rows for marts.fct_return_status and marts.fct_quality_issues of one or more cycles."""

    status: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)

    def expected(
        self, cycle: Cycle, office_codes: Sequence[str], *, deadline: date | None = None
    ) -> None:
        """Every reporter expected in the offices (districts, or provinces after the reform),
        all received on time."""
        ref = reference()
        level: UnitLevel = "district" if cycle.hierarchy == "pre_reform" else "province"
        due = deadline or date(cycle.year, 6 if cycle.kind == "H1" else 12, 15)
        for office in office_codes:
            communes = ref.communes_of(cycle.hierarchy, level, office)
            for code in ref.expected_reporters(cycle.hierarchy, communes):
                reporter = ref.reporter(code, cycle.hierarchy)
                assert reporter is not None
                unit = reporter.unit
                self.status.append(
                    {
                        "cycle": cycle.id,
                        "hierarchy": cycle.hierarchy,
                        "reporter_code": code,
                        "reporter_name": reporter.name_vi,
                        "reporter_kind": reporter.kind,
                        "unit_code": unit.code,
                        "district_code": unit.district_code if cycle.has_districts else None,
                        "province_code": unit.province_code,
                        "received": True,
                        "on_time": True,
                        "deadline": due,
                        "submitted_on": due,
                    }
                )

    def miss(self, cycle: Cycle, *reporter_codes: str) -> None:
        for row in self.status:
            if row["cycle"] == cycle.id and row["reporter_code"] in reporter_codes:
                row.update(received=False, on_time=False, submitted_on=None)

    def finding(
        self,
        cycle: Cycle,
        reporter_code: str,
        *,
        unit_code: str | None = None,
        rule_id: str = "consistency.numerator_le_denominator",
        severity: str = "error",
        element_code: str | None = "u5_weighed",
        indicator_code: str | None = None,
        observed: float | None = 120,
        expected: float | None = 100,
        message_vi: str = "Tử số lớn hơn mẫu số: kiểm tra lại số trẻ được cân.",
        message_en: str = "Numerator above denominator: check the children weighed.",
    ) -> None:
        ref = reference()
        reporter = ref.reporter(reporter_code, cycle.hierarchy)
        assert reporter is not None
        unit_code = unit_code or (
            reporter.code if reporter.kind == "commune" else sorted(reporter.communes)[0]
        )
        commune = ref.commune(cycle.hierarchy, unit_code)
        assert commune is not None
        self.issues.append(
            {
                "cycle": cycle.id,
                "rule_id": rule_id,
                "severity": severity,
                "reporter_code": reporter_code,
                "unit_code": unit_code,
                "unit_name": commune.name_vi,
                "district_code": commune.district_code if cycle.has_districts else None,
                "province_code": commune.province_code,
                "element_code": element_code,
                "indicator_code": indicator_code,
                "observed_value": observed,
                "expected_value": expected,
                "message_vi": message_vi,
                "message_en": message_en,
            }
        )

    def write(self, warehouse: str) -> None:
        with Warehouse(warehouse).connect() as con:
            for statement in MARTS_DDL:
                con.execute(statement)
            status = pd.DataFrame(self.status, columns=list(STATUS_COLUMNS))
            issues = pd.DataFrame(self.issues, columns=list(ISSUE_COLUMNS))
            for column in ("deadline", "submitted_on"):
                status[column] = pd.to_datetime(status[column]).dt.date
            status = status.astype({"received": bool, "on_time": bool})
            for column in ("observed_value", "expected_value"):
                issues[column] = issues[column].astype("float64")
            con.insert_df("marts.fct_return_status", status)
            con.insert_df("marts.fct_quality_issues", issues)


def office_reporters(cycle: Cycle, office: str) -> set[str]:
    """Every reporter code of an office, and the codes of its communes."""
    ref = reference()
    level: UnitLevel = "district" if cycle.hierarchy == "pre_reform" else "province"
    communes = ref.communes_of(cycle.hierarchy, level, office)
    return set(ref.expected_reporters(cycle.hierarchy, communes)) | set(communes)


# -- the scenario most tests share ------------------------------------------------------------

PRE = Cycle.parse("2024-Y")
OFFICES = ("402", "403", "106")  # Như Xuân and Như Thanh (Thanh Hóa), Tam Đường (Lai Châu)
CLEAN_OFFICE = "404"  # Nông Cống: everything received, no finding: no alert


def scenario() -> Marts:
    """Missing returns and findings in three districts; a fourth district is clean."""
    marts = Marts()
    marts.expected(PRE, [*OFFICES, CLEAN_OFFICE])
    marts.miss(PRE, "16174", "402-police", "16228")
    marts.finding(PRE, "16177")
    marts.finding(
        PRE,
        "402-health",
        unit_code="16180",
        severity="warning",
        rule_id="cross_source.u5_weighed_vs_pop_under5",
        observed=530,
        expected=480,
        message_vi="Số trẻ được cân vượt dân số dưới 5 tuổi của xã quá 5%.",
        message_en="Children weighed exceed the commune's under-5 population by >5%.",
    )
    # the completeness rule repeating that 16174's return is missing: listed once, as missing
    marts.finding(
        PRE,
        "16174",
        rule_id="completeness.missing_return",
        element_code=None,
        observed=None,
        expected=None,
        message_vi="Chưa nộp báo cáo.",
        message_en="Return missing.",
    )
    marts.finding(
        PRE,
        "16231",
        element_code=None,
        indicator_code="CT05a",
        observed=104.5,
        expected=100,
        rule_id="range.percentage_le_100",
        message_vi="Tỷ lệ vượt 100%.",
        message_en="Percentage above 100.",
    )
    marts.finding(
        PRE,
        "03394",
        element_code="deaths_neonatal",
        observed=4,
        expected=3,
        rule_id="consistency.deaths_chain",
        message_vi="Số tử vong sơ sinh lớn hơn số tử vong dưới 1 tuổi.",
        message_en="Neonatal deaths above deaths under 1.",
    )
    return marts


def log_rows(settings: Settings, status: LogStatus | None = None) -> list[tuple[object, ...]]:
    """The alerts logged (of one status): cycle, office, recipients, subject, fingerprint,
    finding and missing counts, time, status, error."""
    with Warehouse(settings.warehouse).connect() as con:
        entries = history(con, status)
    return [
        (
            e.cycle,
            e.office_code,
            "; ".join(e.recipients),
            e.subject,
            e.fingerprint,
            e.finding_count,
            e.missing_count,
            e.at,
            e.status,
            e.error,
        )
        for e in entries
    ]


# -- SMTP ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated: bool

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert isinstance(body, EmailMessage)
        return str(body.get_content())

    @property
    def html(self) -> str:
        body = self.message.get_body(("html",))
        assert isinstance(body, EmailMessage)
        return str(body.get_content())


class Collector:
    """aiosmtpd handler that keeps every message it accepts, and refuses any mailbox whose
    name starts with `bounce` (as a server refuses an unknown address)."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("bounce"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message,
                bool(getattr(session, "authenticated", False)),
            )
        )
        return "250 Message accepted for delivery"


class DropAfterData(Collector):
    """Takes the whole message, then drops the connection before its reply (a relay that
    crashes or times out after queuing it): the client cannot know whether it was delivered."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await super().handle_DATA(server, session, envelope)
        server.transport.close()
        return "250 never seen by the client"


class DropFirstMail(Collector):
    """Drops the first connection at MAIL FROM, before any message was sent (a relay
    restarting); answers normally afterwards."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        if not self.dropped:
            self.dropped += 1
            server.transport.close()
            return "421 never seen by the client"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


class Authenticator:
    def __init__(self, login: str, password: str) -> None:
        self.login, self.password = login.encode(), password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.login
            and auth_data.password == self.password
        )
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    port: int
    collector: Collector

    @property
    def received(self) -> list[Received]:
        return self.collector.received

    def uri(
        self,
        *,
        login: str = "",
        password: str = "",
        from_email: str = "ct-te.noreply@example.gov.vn",
        retry_limit: int = 1,
    ) -> str:
        auth = f"{quote(login, safe='')}:{quote(password, safe='')}@" if login else ""
        return (
            f"smtp://{auth}127.0.0.1:{self.port}?from_email={quote(from_email)}"
            f"&disable_ssl=true&disable_tls=true&timeout=5&retry_limit={retry_limit}"
        )

    def clear(self) -> None:
        self.collector.received.clear()


def start_server(collector: Collector | None = None, **smtp_kwargs: Any) -> tuple[Any, SmtpServer]:
    from aiosmtpd.controller import Controller

    collector = collector or Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port, **smtp_kwargs)
    controller.start()
    return controller, SmtpServer(port, collector)
