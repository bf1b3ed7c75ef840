"""The sign-off tables of schema `ops`: the audit trail of every sign-off action, and the
approved revisions of the marts the reports read.

`ops.signoff_actions` is append-only: every approve, unapprove, waive, accept, lock and unlock,
whoever gave it and through what (`via`: `cli`, `airflow`...). Nothing is ever updated or
deleted; the state of a unit is its last approve/unapprove, of a cycle its last lock/unlock
(computed in dbt: `marts.fct_signoff_states`).

`ops.approved_<mart>` hold each approved revision of a signing unit's rows: approving copies
them from the marts inside the warehouse (`INSERT ... SELECT`), so what was signed stays
queryable whatever later returns change. Their columns are the marts' contract columns (read
from `_marts__models.yml`) after the revision's keys; a contract's new column is added in place.
Portable DDL for DuckDB and PostgreSQL; `cycle transform` creates the tables before the build
(dbt's views read them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import yaml  # type: ignore[import-untyped]

from core.hierarchies import SEEDS_DIR
from core.warehouse import WarehouseConnection

ACTIONS_TABLE = "ops.signoff_actions"
ACTIONS = ("approve", "unapprove", "waive", "accept", "lock", "unlock")
ACTION_COLUMNS = (
    "action_id",
    "cycle",
    "unit_level",
    "unit_code",
    "action",
    "subject",
    "actor",
    "via",
    "comment",
    "revision",
    "recorded_at",
)
ACTIONS_DDL = (
    "create schema if not exists ops",
    f"""
    create table if not exists {ACTIONS_TABLE} (
        action_id varchar not null primary key,
        cycle varchar not null,
        unit_level varchar not null,
        unit_code varchar not null,
        action varchar not null,
        subject varchar,
        actor varchar not null,
        via varchar not null,
        comment varchar,
        revision integer,
        recorded_at timestamp not null
    )
    """,
)
"""`unit_*`: the signing unit (the country `VN` for lock and unlock); `subject`: the reporter
waived or the finding accepted; `revision`: approved (approve) or withdrawn (unapprove);
`recorded_at` is UTC."""

COUNTRY = ("country", "VN")
"""Where a cycle's lock and unlock are recorded (the country's code: macros/country.sql)."""

SNAPSHOTS = {
    "fct_indicator_values": "approved_indicator_values",
    "fct_reporting_rates": "approved_reporting_rates",
    "fct_return_status": "approved_return_status",
    "fct_quality_issues": "approved_quality_issues",
}
"""Mart -> table of its approved revisions (schema ops): what a signed report reads."""
SNAPSHOT_KEYS = (
    ("revision", "integer"),
    ("signed_unit_level", "varchar"),
    ("signed_unit_code", "varchar"),
    ("approved_at", "timestamp"),
)
"""The revision's columns, before the mart's."""

_MODELS_YML = (
    SEEDS_DIR.parent / "models" / "marts" / "_marts__models.yml",
    SEEDS_DIR.parent / "models" / "marts" / "quality" / "_quality__models.yml",
)


@cache
def contract_columns(mart: str) -> tuple[tuple[str, str], ...]:
    """The mart's columns and types as its dbt contract declares them."""
    for model in _marts_models():
        if model["name"] == mart:
            return tuple((c["name"], c["data_type"]) for c in model["columns"])
    raise KeyError(f"no contract for marts.{mart}")


@cache
def _marts_models() -> list[dict[str, Any]]:
    # each file read once, by libyaml: the pure-Python parser took a second of every transform
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [
        model
        for path in _MODELS_YML
        for model in yaml.load(path.read_text(encoding="utf-8"), Loader=loader)["models"]
    ]


def ensure_signoff_tables(con: WarehouseConnection) -> None:
    """The audit table and the approved revisions' tables, with every contract column."""
    if not con.table_exists("ops", "signoff_actions"):
        for statement in ACTIONS_DDL:
            con.execute(statement)
    for mart, table in SNAPSHOTS.items():
        wanted = [*SNAPSHOT_KEYS, *contract_columns(mart)]
        if not con.table_exists("ops", table):
            columns = ", ".join(f"{name} {kind}" for name, kind in wanted)
            con.execute(f"create table ops.{table} ({columns})")
            continue
        present = {
            str(row[0])
            for row in con.query(
                "select column_name from information_schema.columns"
                " where table_schema = 'ops' and table_name = ?",
                [table],
            )
        }
        for name, kind in wanted:
            if name not in present:
                con.execute(f"alter table ops.{table} add column {name} {kind}")


@dataclass(frozen=True)
class Action:
    cycle: str
    unit_level: str
    unit_code: str
    action: str
    actor: str
    via: str
    subject: str | None = None
    comment: str | None = None
    revision: int | None = None


def record_actions(con: WarehouseConnection, actions: Iterable[Action]) -> datetime:
    """Append the actions (inside the caller's transaction); their common time (UTC)."""
    ensure_signoff_tables(con)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for a in actions:
        assert a.action in ACTIONS, a.action
        rows.append(
            (
                uuid.uuid4().hex,
                a.cycle,
                a.unit_level,
                a.unit_code,
                a.action,
                a.subject,
                a.actor,
                a.via,
                a.comment,
                a.revision,
                now,
            )
        )
    con.insert_rows(ACTIONS_TABLE, ACTION_COLUMNS, rows)
    return now


def is_locked(con: WarehouseConnection, cycle_id: str) -> bool:
    """Whether the cycle's last lock or unlock is a lock (ingest refuses its new returns)."""
    if not con.table_exists("ops", "signoff_actions"):
        return False
    rows = con.query(
        f"select action from {ACTIONS_TABLE} where cycle = ? and action in ('lock', 'unlock')"
        " order by recorded_at desc, action_id desc limit 1",
        [cycle_id],
    )
    return bool(rows) and rows[0][0] == "lock"


def last_revision(con: WarehouseConnection, cycle_id: str, level: str, code: str) -> int:
    """The unit's last approved revision; 0 when never approved."""
    if not con.table_exists("ops", "signoff_actions"):
        return 0
    rows = con.query(
        f"select max(revision) from {ACTIONS_TABLE}"
        " where cycle = ? and unit_level = ? and unit_code = ? and action = 'approve'",
        [cycle_id, level, code],
    )
    return int(rows[0][0] or 0)


def snapshot(
    con: WarehouseConnection,
    cycle_id: str,
    level: str,
    code: str,
    revision: int,
    approved_at: datetime,
) -> dict[str, int]:
    """Copy the unit's rows of each mart (its own and those of every unit inside it: the rows
    whose `<level>_code` is its code) as `revision`, inside the warehouse; rows per table."""
    if level not in ("district", "province"):
        raise ValueError(f"{level!r} units do not sign")
    ensure_signoff_tables(con)
    copied: dict[str, int] = {}
    for mart, table in SNAPSHOTS.items():
        names = [name for name, _ in contract_columns(mart)]
        keys = ", ".join(name for name, _ in SNAPSHOT_KEYS)
        columns = ", ".join(names)
        scope = f"cycle = ? and {level}_code = ?"
        params: list[Any] = [revision, level, code, approved_at, cycle_id, code]
        con.execute(
            f"insert into ops.{table} ({keys}, {columns})"
            f" select ?, ?, ?, ?, {columns} from marts.{mart} where {scope}",
            params,
        )
        counted = con.query(
            f"select count(*) from ops.{table} where cycle = ? and signed_unit_level = ?"
            " and signed_unit_code = ? and revision = ?",
            [cycle_id, level, code, revision],
        )
        copied[table] = int(counted[0][0])
    return copied
