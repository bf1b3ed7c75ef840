"""`ops.alerts_sent`: every alert sent, attempted or previewed, one row per office and run.

The last row with status `sent` for an office and cycle holds the fingerprint its office has
seen; a run whose fingerprint for that office is the same sends nothing. `dry_run` and `failed`
rows never count as seen. Portable DDL for DuckDB and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from core.cycles import Cycle
from core.warehouse import WarehouseConnection

LogStatus = Literal["sent", "failed", "dry_run"]

ALERTS_SENT_COLUMNS = (
    "cycle", "office_code", "recipients", "subject", "fingerprint", "finding_count",
    "missing_count", "sent_at", "status", "error",
)

DDL = (
    "create schema if not exists ops",
    """
    create table if not exists ops.alerts_sent (
        cycle varchar not null,
        office_code varchar not null,
        recipients varchar,
        subject varchar,
        fingerprint varchar not null,
        finding_count integer not null,
        missing_count integer not null,
        sent_at timestamp not null,
        status varchar not null,
        error varchar
    )
    """,
)
"""`sent_at` is UTC. `recipients` is the `;`-separated list the message went to."""


@dataclass(frozen=True)
class LogEntry:
    cycle: str
    office_code: str
    recipients: tuple[str, ...]
    subject: str
    fingerprint: str
    finding_count: int
    missing_count: int
    status: LogStatus
    error: str | None = None


def ensure_alerts_log(con: WarehouseConnection) -> None:
    if con.table_exists("ops", "alerts_sent"):
        return
    for statement in DDL:
        con.execute(statement)


def last_sent_fingerprints(con: WarehouseConnection, cycle: Cycle) -> dict[str, str]:
    """office_code -> fingerprint of the last alert actually sent for the cycle."""
    rows = con.query(
        "select office_code, fingerprint from ops.alerts_sent "
        "where cycle = ? and status = 'sent' order by sent_at",
        [cycle.id],
    )
    return {str(office): str(fingerprint) for office, fingerprint in rows}


def record(con: WarehouseConnection, entry: LogEntry, sent_at: datetime | None = None) -> None:
    """Log one alert. Written as each message goes, so a crash mid-run cannot lead to a second
    copy of what was already sent."""
    moment = (sent_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    placeholders = ", ".join("?" for _ in ALERTS_SENT_COLUMNS)
    con.execute(
        f"insert into ops.alerts_sent ({', '.join(ALERTS_SENT_COLUMNS)}) values ({placeholders})",
        [
            entry.cycle, entry.office_code, "; ".join(entry.recipients), entry.subject,
            entry.fingerprint, entry.finding_count, entry.missing_count, moment, entry.status,
            entry.error,
        ],
    )
