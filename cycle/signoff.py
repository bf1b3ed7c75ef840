"""Sign-off of a cycle: approve, unapprove, waive, accept, lock, unlock.

The command line (`cycle approve ...`) and the Airflow DAG call these functions, and only these:
the same rules, the same audit rows (`ops.signoff_actions`: actor `by`, channel `via`).
Whether a unit can be approved is the warehouse's answer (`marts.fct_signoff_states`, SQL in
dbt: returns in or waived, error findings resolved or accepted, districts first); Python reads
it, says why not, and records the decision. Approving copies the unit's mart rows as a new
revision inside the warehouse (`core.signoffs.snapshot`: INSERT ... SELECT). Every action holds
the warehouse's lock, as the steps do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from core.cycles import Cycle
from core.errors import UserError
from core.settings import Settings
from core.signoffs import (
    COUNTRY,
    Action,
    ensure_signoff_tables,
    is_locked,
    last_revision,
    record_actions,
)
from core.signoffs import snapshot as snapshot_unit
from core.warehouse import Warehouse, WarehouseConnection

SIGNOFF_STATES = ("open", "validated", "approved", "locked")
SHOWN_ITEMS = 5
"""Items (reporters, findings) a blocking line names before saying how many more."""


class SignoffRefused(UserError):
    """An action the sign-off rules refuse: the message names the unit and every reason
    (Vietnamese / English)."""

    def __init__(self, message: str, unit: UnitSignoff | None = None) -> None:
        super().__init__(message)
        self.unit = unit


class SignoffNotAvailable(UserError):
    """The warehouse has no sign-off states for the cycle (not built yet)."""


@dataclass(frozen=True)
class UnitSignoff:
    """One signing unit of a cycle (`marts.fct_signoff_states`)."""

    cycle: str
    unit_level: str
    unit_code: str
    unit_name_vi: str | None
    state: str
    """'open' | 'validated' | 'approved' | 'locked'."""
    revision: int | None
    """The revision approved (None when not approved)."""
    approved_by: str | None
    approved_at: datetime | None
    ready: bool
    """Can be approved now."""
    blocking: tuple[str, ...]
    """Why not (one line each, Vietnamese / English)."""
    pending_revision: bool
    """Approved, and figures or returns changed since the approved revision."""
    approval_comment: str | None = None
    approved_via: str | None = None
    province_code: str | None = None
    signs_after_districts: bool = False
    cycle_state: str | None = None
    figures_pending: int = 0
    returns_pending: int = 0
    unchanged: bool = False
    """Set on what `approve` returns when it had nothing to do (approved, nothing pending)."""

    @property
    def label(self) -> str:
        name = f" {self.unit_name_vi}" if self.unit_name_vi else ""
        return f"{self.unit_level} {self.unit_code}{name}"


_COLUMNS = (
    "cycle",
    "unit_level",
    "unit_code",
    "unit_name_vi",
    "state",
    "revision",
    "approved_by",
    "approved_at",
    "is_ready",
    "pending_revision",
    "approval_comment",
    "approved_via",
    "province_code",
    "signs_after_districts",
    "cycle_state",
    "figures_pending",
    "returns_pending",
    "is_validated",
    "is_locked",
    "is_approved",
    "returns_missing",
    "findings_open",
    "districts_left",
)


def unit_signoffs(settings: Settings, cycle: Cycle) -> list[UnitSignoff]:
    """Every signing unit of the cycle, provinces first then their districts."""
    with Warehouse(settings.warehouse).connect(read_only=True) as con:
        return _read(con, cycle)


def _read(
    con: WarehouseConnection, cycle: Cycle, unit_code: str | None = None
) -> list[UnitSignoff]:
    if not con.table_exists("marts", "fct_signoff_states"):
        raise SignoffNotAvailable(_not_built(cycle))
    sql = f"select {', '.join(_COLUMNS)} from marts.fct_signoff_states where cycle = ?"
    params: list[Any] = [cycle.id]
    if unit_code is not None:
        sql, params = sql + " and unit_code = ?", [*params, unit_code]
    rows = [dict(zip(_COLUMNS, r, strict=True)) for r in con.query(sql, params)]
    if not rows and unit_code is None:
        raise SignoffNotAvailable(_not_built(cycle))
    items = _items(con, cycle, [r["unit_code"] for r in rows if not r["is_ready"]])
    left = _districts_left(con, cycle, rows)
    units = [_unit(r, items, left) for r in rows]
    return sorted(
        units,
        key=lambda u: (u.province_code or "", u.unit_level != "province", u.unit_code),
    )


def _items(
    con: WarehouseConnection, cycle: Cycle, codes: Sequence[str]
) -> dict[str, dict[str, list[tuple[str, str | None]]]]:
    """By unit and kind (`return`, `finding`), its open items (code, detail)."""
    out: dict[str, dict[str, list[tuple[str, str | None]]]] = {}
    if not codes:
        return out
    rows = con.query(
        "select unit_code, item_kind, item_code, detail from marts.fct_signoff_items_open"
        " where cycle = ? order by unit_code, item_kind, item_code",
        [cycle.id],
    )
    wanted = set(codes)
    for unit_code, kind, code, detail in rows:
        if unit_code in wanted:
            out.setdefault(unit_code, {}).setdefault(kind, []).append((code, detail))
    return out


def _districts_left(
    con: WarehouseConnection, cycle: Cycle, rows: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """By province signing after its districts, those not approved or with a revision pending."""
    provinces = {r["unit_code"] for r in rows if r["districts_left"]}
    if not provinces:
        return {}
    found = con.query(
        "select province_code, unit_code from marts.fct_signoff_states where cycle = ?"
        " and unit_level = 'district' and (not is_approved or pending_revision)"
        " order by unit_code",
        [cycle.id],
    )
    out: dict[str, list[str]] = {}
    for province, district in found:
        if province in provinces:
            out.setdefault(province, []).append(district)
    return out


def _unit(
    r: dict[str, Any],
    items: dict[str, dict[str, list[tuple[str, str | None]]]],
    left: dict[str, list[str]],
) -> UnitSignoff:
    blocking: list[str] = []
    code = r["unit_code"]
    if r["is_locked"]:
        blocking.append(
            "kỳ báo cáo đã khóa (cycle unlock trước) / the cycle is locked (cycle unlock first)"
        )
    if not r["is_validated"]:
        blocking.append(
            f"số liệu chưa được tổng hợp và kiểm tra sau lần nhận gần nhất (trạng thái "
            f"{r['cycle_state']}; chạy cycle run {r['cycle']}) / figures not built and validated "
            f"since the last returns (state {r['cycle_state']}; run cycle run {r['cycle']})"
        )
    unit_items = items.get(code, {})
    if r["returns_missing"]:
        shown = _shown([c for c, _ in unit_items.get("return", [])], r["returns_missing"])
        blocking.append(
            f"{r['returns_missing']} báo cáo chưa nhận, chưa miễn (cycle waive) / "
            f"{r['returns_missing']} returns missing and not waived (cycle waive): {shown}"
        )
    if r["findings_open"]:
        shown = _shown([f"{c} ({d})" for c, d in unit_items.get("finding", [])], r["findings_open"])
        blocking.append(
            f"{r['findings_open']} lỗi chưa xử lý, chưa chấp nhận (cycle accept) / "
            f"{r['findings_open']} error findings neither resolved nor accepted (cycle accept): "
            f"{shown}"
        )
    if r["districts_left"]:
        shown = _shown(left.get(code, []), r["districts_left"])
        blocking.append(
            f"{r['districts_left']} huyện chưa được phê duyệt / {r['districts_left']} districts "
            f"not approved (or with a revision pending): {shown}"
        )
    return UnitSignoff(
        cycle=r["cycle"],
        unit_level=r["unit_level"],
        unit_code=code,
        unit_name_vi=r["unit_name_vi"],
        state=r["state"],
        revision=_opt_int(r["revision"]),
        approved_by=r["approved_by"],
        approved_at=r["approved_at"],
        ready=bool(r["is_ready"]),
        blocking=tuple(blocking),
        pending_revision=bool(r["pending_revision"]),
        approval_comment=r["approval_comment"],
        approved_via=r["approved_via"],
        province_code=r["province_code"],
        signs_after_districts=bool(r["signs_after_districts"]),
        cycle_state=r["cycle_state"],
        figures_pending=int(r["figures_pending"] or 0),
        returns_pending=int(r["returns_pending"] or 0),
    )


def _shown(codes: list[str], total: int) -> str:
    shown = ", ".join(codes[:SHOWN_ITEMS])
    more = total - min(len(codes), SHOWN_ITEMS)
    return shown + (f" … (+{more})" if more > 0 else "")


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _not_built(cycle: Cycle) -> str:
    return (
        f"Kỳ {cycle.id} chưa có trạng thái phê duyệt trong kho (chạy `cycle run {cycle.id}`) / "
        f"no sign-off states for {cycle.id} in the warehouse yet (run `cycle run {cycle.id}`)"
    )


def _actor(by: str, what: str) -> str:
    actor = (by or "").strip()
    if not actor:
        raise SignoffRefused(
            f"{what}: cần tên người thực hiện (--by) / who does it must be named (--by)"
        )
    return actor


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise SignoffRefused(f"{what}: cần lý do (--reason) / a reason is required (--reason)")
    return text


def _one(con: WarehouseConnection, cycle: Cycle, unit_code: str) -> UnitSignoff:
    code = unit_code.strip()
    found = _read(con, cycle, code)
    if not found:
        raise SignoffRefused(
            f"{code} không phải đơn vị phê duyệt của kỳ {cycle.id} (huyện trước sáp nhập, tỉnh) "
            f"/ {code} is no signing unit of {cycle.id} (a district before the reform, a "
            f"province): see `cycle status {cycle.id}`"
        )
    return found[0]


def _province_of(con: WarehouseConnection, cycle: Cycle, unit: UnitSignoff) -> UnitSignoff | None:
    if unit.unit_level != "district" or not unit.province_code:
        return None
    found = _read(con, cycle, unit.province_code)
    return found[0] if found and found[0].signs_after_districts else None


def approve(
    settings: Settings,
    cycle: Cycle,
    unit_code: str,
    *,
    by: str,
    comment: str | None = None,
    via: str = "cli",
) -> UnitSignoff:
    """Approve the unit: its figures as they are become revision N (N+1 after a pending
    revision). Raises SignoffRefused naming every reason it cannot be. An approved unit with
    nothing pending is left as it is (`unchanged`), so a retry is harmless."""
    actor = _actor(by, f"Phê duyệt / approve {unit_code}")
    warehouse = Warehouse(settings.warehouse)
    with warehouse.lock(f"cycle approve {cycle.id} {unit_code}"), warehouse.connect() as con:
        ensure_signoff_tables(con)
        unit = _one(con, cycle, unit_code)
        if unit.state in ("approved", "locked") and not unit.pending_revision:
            return _with(unit, unchanged=True)
        if not unit.ready:
            raise SignoffRefused(_refusal(("phê duyệt", "approve"), cycle, unit), unit)
        with con.transaction():
            revision = last_revision(con, cycle.id, unit.unit_level, unit.unit_code) + 1
            at = record_actions(
                con,
                [
                    Action(
                        cycle.id,
                        unit.unit_level,
                        unit.unit_code,
                        "approve",
                        actor,
                        via,
                        comment=(comment or "").strip() or None,
                        revision=revision,
                    )
                ],
            )
            snapshot_unit(con, cycle.id, unit.unit_level, unit.unit_code, revision, at)
        return _one(con, cycle, unit.unit_code)


def unapprove(
    settings: Settings, cycle: Cycle, unit_code: str, *, by: str, reason: str, via: str = "cli"
) -> UnitSignoff:
    """Withdraw the unit's approval (its reports become drafts again; its revisions stay)."""
    what = f"Hủy phê duyệt / unapprove {unit_code}"
    actor, why = _actor(by, what), _reason(reason, what)
    verb = ("hủy phê duyệt", "unapprove")
    warehouse = Warehouse(settings.warehouse)
    with warehouse.lock(f"cycle unapprove {cycle.id} {unit_code}"), warehouse.connect() as con:
        ensure_signoff_tables(con)
        unit = _one(con, cycle, unit_code)
        reasons = []
        if unit.state == "locked":
            reasons.append(
                "kỳ báo cáo đã khóa (cycle unlock trước) / the cycle is locked (cycle unlock first)"
            )
        elif unit.state != "approved":
            reasons.append(f"chưa được phê duyệt / not approved (state {unit.state})")
        province = _province_of(con, cycle, unit)
        if province is not None and province.state == "approved":
            reasons.append(
                f"tỉnh {province.unit_code} đã phê duyệt, hủy phê duyệt tỉnh trước / province "
                f"{province.unit_code} is approved: unapprove it first"
            )
        if reasons:
            raise SignoffRefused(_refusal_lines(verb, cycle, unit, reasons), unit)
        with con.transaction():
            record_actions(
                con,
                [
                    Action(
                        cycle.id,
                        unit.unit_level,
                        unit.unit_code,
                        "unapprove",
                        actor,
                        via,
                        comment=why,
                        revision=unit.revision,
                    )
                ],
            )
        return _one(con, cycle, unit.unit_code)


def lock(
    settings: Settings, cycle: Cycle, *, by: str, reason: str | None = None, via: str = "cli"
) -> None:
    """Lock the cycle: every signing unit must be approved with nothing pending. A locked cycle
    refuses new returns (ingest records them rejected, `cycle_locked`) and sign-off changes."""
    actor = _actor(by, f"Khóa / lock {cycle.id}")
    warehouse = Warehouse(settings.warehouse)
    with warehouse.lock(f"cycle lock {cycle.id}"), warehouse.connect() as con:
        ensure_signoff_tables(con)
        units = _read(con, cycle)
        if any(u.state == "locked" for u in units):
            raise SignoffRefused(
                f"Kỳ {cycle.id} đã khóa / {cycle.id} is already locked (nothing done)"
            )
        left = [u for u in units if u.state != "approved" or u.pending_revision]
        if left:
            names = _shown([f"{u.unit_level} {u.unit_code} ({_why(u)})" for u in left], len(left))
            raise SignoffRefused(
                f"Không khóa được kỳ {cycle.id}: còn {len(left)} đơn vị chưa phê duyệt / cannot "
                f"lock {cycle.id}: {len(left)} units not approved: {names}"
            )
        with con.transaction():
            record_actions(
                con,
                [Action(cycle.id, *COUNTRY, "lock", actor, via, comment=_opt(reason))],
            )


def unlock(settings: Settings, cycle: Cycle, *, by: str, reason: str, via: str = "cli") -> None:
    """Unlock the cycle (recorded with its reason): returns are taken again, approvals can be
    withdrawn; files refused while locked are taken by the next ingest."""
    what = f"Mở khóa / unlock {cycle.id}"
    actor, why = _actor(by, what), _reason(reason, what)
    warehouse = Warehouse(settings.warehouse)
    with warehouse.lock(f"cycle unlock {cycle.id}"), warehouse.connect() as con:
        ensure_signoff_tables(con)
        if not is_locked(con, cycle.id):
            raise SignoffRefused(f"Kỳ {cycle.id} chưa khóa / {cycle.id} is not locked")
        with con.transaction():
            record_actions(con, [Action(cycle.id, *COUNTRY, "unlock", actor, via, comment=why)])


@dataclass(frozen=True)
class Recorded:
    """What `waive` or `accept` did: the items recorded, and those already recorded before."""

    recorded: tuple[str, ...]
    already: tuple[str, ...]


def waive(
    settings: Settings,
    cycle: Cycle,
    reporters: Sequence[str],
    *,
    by: str,
    reason: str,
    via: str = "cli",
) -> Recorded:
    """Waive expected returns not received: their units can be approved without them."""
    what = f"Miễn báo cáo / waive {cycle.id}"
    actor, why = _actor(by, what), _reason(reason, what)
    warehouse = Warehouse(settings.warehouse)
    with warehouse.lock(f"cycle waive {cycle.id}"), warehouse.connect() as con:
        ensure_signoff_tables(con)
        _refuse_if_locked(con, cycle)
        codes = _codes(reporters)
        found = _lookup(
            con,
            "select reporter_code, received, district_code, province_code"
            " from marts.fct_return_status where cycle = ?",
            cycle,
        )
        problems = []
        for code in codes:
            if code not in found:
                problems.append(
                    f"{code}: không phải đơn vị báo cáo của kỳ / expected of no reporter in "
                    f"{cycle.id}"
                )
            elif found[code][0]:
                problems.append(f"{code}: đã nhận báo cáo / its return is in: nothing to waive")
        if problems:
            raise SignoffRefused(f"{what}: " + "; ".join(problems))
        done = _subjects(con, cycle, "waive")
        new = [c for c in codes if c not in done]
        with con.transaction():
            record_actions(
                con,
                [
                    Action(
                        cycle.id,
                        *_agency_unit(found[c][1], found[c][2]),
                        "waive",
                        actor,
                        via,
                        subject=c,
                        comment=why,
                    )
                    for c in new
                ],
            )
        return Recorded(tuple(new), tuple(c for c in codes if c in done))


def accept(
    settings: Settings,
    cycle: Cycle,
    finding_keys: Sequence[str],
    *,
    by: str,
    reason: str,
    via: str = "cli",
) -> Recorded:
    """Accept findings (by `finding_key`, or a prefix naming one): they no longer block."""
    what = f"Chấp nhận lỗi / accept {cycle.id}"
    actor, why = _actor(by, what), _reason(reason, what)
    warehouse = Warehouse(settings.warehouse)
    with warehouse.lock(f"cycle accept {cycle.id}"), warehouse.connect() as con:
        ensure_signoff_tables(con)
        _refuse_if_locked(con, cycle)
        found = _lookup(
            con,
            "select finding_key, severity, district_code, province_code"
            " from marts.fct_quality_issues where cycle = ?",
            cycle,
        )
        keys, problems = [], []
        for given in _codes(finding_keys):
            matches = [k for k in found if k.startswith(given)] if len(given) >= 6 else []
            if given in found:
                matches = [given]
            if len(matches) == 1:
                keys.append(matches[0])
            else:
                problem = (
                    "nhiều lỗi khớp / names several findings"
                    if matches
                    else "không có lỗi này / no such finding"
                )
                problems.append(
                    f"{given}: {problem} in {cycle.id} (marts.fct_quality_issues.finding_key)"
                )
        if problems:
            raise SignoffRefused(f"{what}: " + "; ".join(problems))
        done = _subjects(con, cycle, "accept")
        new = [k for k in dict.fromkeys(keys) if k not in done]
        with con.transaction():
            record_actions(
                con,
                [
                    Action(
                        cycle.id,
                        *_agency_unit(found[k][1], found[k][2]),
                        "accept",
                        actor,
                        via,
                        subject=k,
                        comment=why,
                    )
                    for k in new
                ],
            )
        return Recorded(tuple(new), tuple(k for k in keys if k in done))


def _codes(given: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(c.strip() for c in given if c.strip()))


def _lookup(con: WarehouseConnection, sql: str, cycle: Cycle) -> dict[str, tuple[Any, ...]]:
    table = sql.split(" from ")[1].split(maxsplit=1)[0]
    schema, name = table.split(".")
    if not con.table_exists(schema, name):
        raise SignoffNotAvailable(_not_built(cycle))
    return {str(row[0]): tuple(row[1:]) for row in con.query(sql, [cycle.id])}


def _subjects(con: WarehouseConnection, cycle: Cycle, action: str) -> set[str]:
    rows = con.query(
        "select subject from ops.signoff_actions where cycle = ? and action = ?",
        [cycle.id, action],
    )
    return {str(r[0]) for r in rows}


def _agency_unit(district_code: str | None, province_code: str | None) -> tuple[str, str]:
    """The signing unit of a reporter or finding: its district (before the reform), else its
    province (as marts.fct_signoff_items_open attaches them)."""
    if district_code:
        return "district", district_code
    return "province", province_code or ""


def _refuse_if_locked(con: WarehouseConnection, cycle: Cycle) -> None:
    if is_locked(con, cycle.id):
        raise SignoffRefused(
            f"Kỳ {cycle.id} đã khóa (cycle unlock trước) / {cycle.id} is locked "
            "(cycle unlock first)"
        )


def _opt(text: str | None) -> str | None:
    return (text or "").strip() or None


def _why(unit: UnitSignoff) -> str:
    if unit.state == "approved":
        return "pending revision"
    return unit.state


def _refusal(verb: tuple[str, str], cycle: Cycle, unit: UnitSignoff) -> str:
    reasons = list(unit.blocking) or [f"trạng thái / state {unit.state}"]
    return _refusal_lines(verb, cycle, unit, reasons)


def _refusal_lines(
    verb: tuple[str, str], cycle: Cycle, unit: UnitSignoff, reasons: list[str]
) -> str:
    """One line: the unit, then every reason."""
    return (
        f"Không thể {verb[0]} {unit.unit_code}, kỳ {cycle.id} / cannot {verb[1]} {unit.label} "
        f"in {cycle.id}: " + "; ".join(reasons)
    )


def _with(unit: UnitSignoff, **changes: Any) -> UnitSignoff:
    values = {f.name: getattr(unit, f.name) for f in fields(unit)}
    values.update(changes)
    return UnitSignoff(**values)


def format_signoffs(cycle: Cycle, units: Sequence[UnitSignoff]) -> str:
    """`cycle status`'s sign-off part: every signing unit's state, what blocks it, and who is
    left."""
    counts = {state: sum(u.state == state for u in units) for state in SIGNOFF_STATES}
    pending = sum(u.pending_revision for u in units)
    left = [u for u in units if u.state not in ("approved", "locked") or u.pending_revision]
    lines = [
        f"Phê duyệt / sign-off {cycle.id}: "
        + ", ".join(f"{n} {state}" for state, n in counts.items() if n)
        + (f"; {pending} pending revision" if pending else ""),
        f"  còn lại / left: {len(left)} of {len(units)}"
        + (
            f" ({', '.join(u.unit_code for u in left[:12])}{' …' if len(left) > 12 else ''})"
            if left
            else ""
        ),
    ]
    for u in units:
        indent = "    " if u.unit_level == "district" else "  "
        state = u.state + (" (ready)" if u.ready else "")
        detail = ""
        if u.revision is not None:
            when = u.approved_at.strftime("%Y-%m-%d %H:%M") if u.approved_at else ""
            detail = f"revision {u.revision} by {u.approved_by} {when} ({u.approved_via})"
        if u.pending_revision:
            detail += (
                f"; PENDING REVISION / chờ phê duyệt lại: {u.figures_pending} figures, "
                f"{u.returns_pending} returns changed"
            )
        lines.append(f"{indent}{u.label[:40]:<40} {state:<18} {detail}".rstrip())
        lines.extend(f"{indent}  - {reason}" for reason in u.blocking)
    return "\n".join(lines)
