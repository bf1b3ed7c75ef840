"""`cycle status CYCLE`: where each district and province of a cycle stands, as the warehouse's
`marts.fct_cycle_states` says (read from the steps' ledger, `core.ledger`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields
from datetime import datetime

from core.cycles import Cycle
from core.errors import UserError
from core.settings import Settings
from core.warehouse import Warehouse

STATES = ("received", "built", "validated", "reported", "alerted")
"""In order: each state is reached once the step after the previous one has run since."""


class CycleNotBuilt(UserError):
    """The cycle has no row in the warehouse's states: nothing built for it yet."""


@dataclass(frozen=True)
class UnitState:
    unit_level: str
    unit_code: str
    unit_name_vi: str | None
    province_code: str
    reporters_expected: int
    returns_received: int
    reporters_changed_since_build: int
    state: str
    built_at: datetime | None
    validated_at: datetime | None
    reported_at: datetime | None
    alerted_at: datetime | None
    alert_outcome: str | None


COLUMNS = tuple(f.name for f in fields(UnitState))
"""What `cycle status` reads of marts.fct_cycle_states."""


def read_states(settings: Settings, cycle: Cycle) -> list[UnitState]:
    """The cycle's units, provinces first then their districts."""
    warehouse = Warehouse(settings.warehouse)
    with warehouse.connect(read_only=True) as con:
        if not con.table_exists("marts", "fct_cycle_states"):
            raise CycleNotBuilt(_not_built(cycle, warehouse.describe()))
        rows = con.query(
            f"select {', '.join(COLUMNS)} from marts.fct_cycle_states where cycle = ? "
            "order by province_code, unit_level desc, unit_code",
            [cycle.id],
        )
    if not rows:
        raise CycleNotBuilt(_not_built(cycle, warehouse.describe()))
    return [UnitState(*row) for row in rows]


def _not_built(cycle: Cycle, warehouse: str) -> str:
    return (
        f"Kỳ {cycle.id} chưa được xây dựng trong kho (chạy `cycle run {cycle.id}`). / "
        f"Nothing is built for {cycle.id} in {warehouse} yet (run `cycle run {cycle.id}`)."
    )


def format_states(cycle: Cycle, states: list[UnitState]) -> str:
    counts = Counter(s.state for s in states)
    lines = [
        f"{cycle.id}: "
        + ", ".join(f"{counts[state]} {state}" for state in STATES if counts[state]),
        "",
        f"{'unit':<40} {'returns':>9} {'changed':>7}  {'state':<10} {'built':<16}  "
        f"{'validated':<16}  {'reported':<16}  alert",
    ]
    for s in states:
        indent = "  " if s.unit_level == "district" else ""
        unit = f"{indent}{s.unit_level} {s.unit_code} {s.unit_name_vi or ''}".rstrip()
        alert = f"{_time(s.alerted_at)} {s.alert_outcome}" if s.alert_outcome else ""
        lines.append(
            f"{unit[:40]:<40} {f'{s.returns_received}/{s.reporters_expected}':>9} "
            f"{s.reporters_changed_since_build or '':>7}  {s.state:<10} {_time(s.built_at):<16}  "
            f"{_time(s.validated_at):<16}  {_time(s.reported_at):<16}  {alert}".rstrip()
        )
    lines += [
        "",
        "received → built → validated → reported → alerted (UTC times; 'changed': reporters "
        "whose files changed since the last build)",
    ]
    return "\n".join(lines)


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"
