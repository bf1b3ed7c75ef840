"""`ops.step_ledger`: the one record of what each step of a cycle last did, and from what.

Every step answers "what changed since I last ran?" the same way: it digests its inputs per
item (a received file for the build, a province for the checks, a report, an office), compares
them with the digests it recorded when it last succeeded (`recorded`), works only on the items
that differ, and records them (`record`) in the same transaction as its own writes where it has
any. A failed step records nothing, so the next run redoes it. The cycle's state per unit
(`cycle status`) is read from the same rows.

`step` is one of `STEPS`; `cycle` is '' for what belongs to no cycle (the seeds, the models);
`outcome` is 'done' or the step's own word (an alert is `sent`, `uncertain`, `failed` or
`dry_run`); `detail` is JSON the step keeps with the item (a report's index entry, an alert's
recipients). Steps that need a history (alerts: every attempt is evidence) append; the others
replace an item's row (`record`'s `append`). Portable DDL for DuckDB and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.warehouse import WarehouseConnection

LEDGER = "ops.step_ledger"
COLUMNS = ("step", "cycle", "item", "digest", "outcome", "detail", "recorded_at")
DDL = (
    "create schema if not exists ops",
    f"""
    create table if not exists {LEDGER} (
        step varchar not null,
        cycle varchar not null,
        item varchar not null,
        digest varchar not null,
        outcome varchar not null,
        detail varchar,
        recorded_at timestamp not null
    )
    """,
)
"""`recorded_at` is UTC."""


@dataclass(frozen=True)
class Entry:
    """What a step did for one item: the digest of the item's inputs it worked from."""

    item: str
    digest: str
    outcome: str = "done"
    detail: Mapping[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None


RETIRED = ("ops.built_returns", "ops.build_inputs", "reference.seed_versions")
"""What the steps kept before this ledger: dropped when a warehouse first gets the ledger (its
steps then redo their work once)."""


def ensure_ledger(con: WarehouseConnection) -> None:
    if not con.table_exists("ops", "step_ledger"):
        for statement in DDL:
            con.execute(statement)
        for table in RETIRED:
            con.execute(f"drop table if exists {table}")


def recorded(
    con: WarehouseConnection, step: str, cycle: str, outcomes: Collection[str] | None = None
) -> dict[str, Entry]:
    """By item, the step's last entry for the cycle (among `outcomes` when given)."""
    return {item: e for (_, item), e in _latest(con, step, cycle, "", outcomes).items()}


def recorded_every_cycle(
    con: WarehouseConnection, step: str, prefix: str = ""
) -> dict[tuple[str, str], Entry]:
    """By (cycle, item), the step's last entry, for the items starting with `prefix`."""
    return _latest(con, step, None, prefix, None)


def _latest(
    con: WarehouseConnection,
    step: str,
    cycle: str | None,
    prefix: str,
    outcomes: Collection[str] | None,
) -> dict[tuple[str, str], Entry]:
    return {
        (row_cycle, e.item): e
        for row_cycle, e in entries(con, step, cycle=cycle, prefix=prefix, outcomes=outcomes)
    }


def entries(
    con: WarehouseConnection,
    step: str,
    *,
    cycle: str | None = None,
    prefix: str = "",
    outcomes: Collection[str] | None = None,
) -> list[tuple[str, Entry]]:
    """The step's entries with their cycle, oldest first (for a cycle, the items starting with
    `prefix`, among `outcomes`, when given)."""
    if not con.table_exists("ops", "step_ledger") or (outcomes is not None and not outcomes):
        return []
    sql = (
        f"select cycle, item, digest, outcome, detail, recorded_at from {LEDGER} "
        "where step = ? and item like ?"
    )
    params: list[Any] = [step, prefix + "%"]
    if cycle is not None:
        sql, params = sql + " and cycle = ?", [*params, cycle]
    if outcomes is not None:
        sql += f" and outcome in ({', '.join('?' for _ in outcomes)})"
        params += list(outcomes)
    return [
        (
            str(row_cycle),
            Entry(str(item), str(digest), str(outcome), json.loads(detail) if detail else {}, at),
        )
        for row_cycle, item, digest, outcome, detail, at in con.query(
            sql + " order by recorded_at, item", params
        )
    ]


def record(
    con: WarehouseConnection,
    step: str,
    cycle: str,
    entries: Iterable[Entry],
    *,
    forget: Iterable[str] = (),
    append: bool = False,
) -> None:
    """Record the step's entries for the cycle: each replaces the item's earlier rows, or with
    `append` is added to them (a history, or items just `reset`). `forget` removes items that
    are gone (a province with no rows left). Call it inside the step's own transaction where the
    step writes to the warehouse."""
    ensure_ledger(con)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (
            step,
            cycle,
            e.item,
            e.digest,
            e.outcome,
            json.dumps(dict(e.detail), ensure_ascii=False, sort_keys=True) if e.detail else None,
            e.recorded_at or now,
        )
        for e in entries
    ]
    drop = set(forget) if append else {row[2] for row in rows} | set(forget)
    _delete_items(con, step, cycle, sorted(drop))
    con.insert_rows(LEDGER, COLUMNS, rows)


def reset(con: WarehouseConnection, step: str, cycle: str | None = None, prefix: str = "") -> None:
    """Forget what the step did (for a cycle or every cycle; the items starting with `prefix`):
    its next run redoes it."""
    if not con.table_exists("ops", "step_ledger"):
        return
    sql, params = f"delete from {LEDGER} where step = ? and item like ?", [step, prefix + "%"]
    if cycle is not None:
        sql, params = sql + " and cycle = ?", [*params, cycle]
    con.execute(sql, params)


_CHUNK = 500


def _delete_items(con: WarehouseConnection, step: str, cycle: str, items: list[str]) -> None:
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        con.execute(
            f"delete from {LEDGER} where step = ? and cycle = ? and item in ({marks})",
            [step, cycle, *chunk],
        )
