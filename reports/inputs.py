"""What each report of a cycle reads, digested by the warehouse, so that a re-run after a late
return renders only the reports whose inputs changed.

The rows are those `reports.load.INPUTS` declares (the loader reads the same), hashed by the
warehouse in the groups each input names (one unit's values, one reporter's return, the
findings of one district...), every column the reports read; a report's digest is the hash of
the groups it reads (`_readers`), of the renderer's code and of the cycle's settings. A national
cycle is a few thousand groups, hashed in a fraction of a second without reading the rows out.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.cycles import Cycle
from core.warehouse import Warehouse, WarehouseConnection
from reports.errors import MissingMarts
from reports.load import INPUTS, UnitRef, check_marts, units_to_report

Key = tuple[str, str]
"""A report, or a unit: (level, code)."""


def group_sql(con: WarehouseConnection, name: str) -> str:
    """An input's rows per group: how many, and the sum of their hashes (the order the rows
    come in does not matter; every value of every column the reports read does)."""
    i = INPUTS[name]
    keys = ", ".join(i.groups)
    sql = i.sql(f"{keys + ', ' if keys else ''}count(*), sum({con.row_hash(i.columns)})")
    return sql + (f" group by {keys}" if keys else "")


@dataclass(frozen=True)
class CycleInputs:
    """The reports of a cycle and what each reads."""

    units: list[UnitRef]
    """Every report of the cycle, in the index's order."""
    digests: dict[Key, str]
    """By report: the digest of everything it reads."""
    value_codes: dict[Key, set[str]]
    """By report: the units (codes as the warehouse spells them) whose indicator values it
    reads."""
    generated_from: str
    has_figures: bool
    """Whether the warehouse holds indicator values or returns for the cycle."""

    def value_codes_of(self, units: Iterable[UnitRef]) -> set[str]:
        """The units whose indicator values building these reports needs."""
        codes: set[str] = set()
        for unit in units:
            codes |= self.value_codes.get((unit.level, unit.code), set())
        return codes


def read_inputs(warehouse: str | Warehouse, cycle: Cycle, renderer: bytes) -> CycleInputs:
    """Digest what each report of the cycle reads; `renderer` is the digest of the code that
    renders them. Read-only."""
    wh = warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse)
    admin = INPUTS["admin_units"]
    with wh.connect(read_only=True) as con:
        read = check_marts(con, wh, cycle)
        # In a fixed order: the digests of the inputs every report reads follow it.
        groups = {
            name: con.query(group_sql(con, name), INPUTS[name].params(cycle))
            for name in sorted(read)
        }
        admin_rows = con.query(admin.sql(), admin.params(cycle))

    units: dict[Key, dict[str, Any]] = {}
    for row in admin_rows:
        r = dict(zip(admin.columns, row, strict=True))
        units[(r["unit_level"], r["unit_code"])] = r
    country = next((key for key in units if key[0] == "country"), None)
    if country is None:  # built before the marts held the country
        raise MissingMarts(
            f"Kho dữ liệu {wh.describe()} thiếu hàng toàn quốc / lacks the country's rows"
            f" (chạy / run `cycle transform {cycle.id} --full-refresh`)"
        )
    parent = _parents(units, has_districts=cycle.has_districts)

    base = hashlib.sha256(renderer)
    settings = (cycle.id, cycle.previous_comparable.id, cycle.hierarchy, cycle.is_annual)
    base.update(repr((*settings, wh.describe(), sorted(read))).encode())
    for name, rows in groups.items():
        if not INPUTS[name].groups:  # read by every report
            base.update(repr(rows).encode())

    pieces: dict[Key, list[str]] = defaultdict(list)
    value_codes: dict[Key, set[str]] = defaultdict(set)
    found: set[Key] = set()
    for name, rows in groups.items():
        if not INPUTS[name].groups:
            continue
        for row in rows:
            *keys, count, total = row
            piece = f"{name}:{count}:{total}"
            readers = _readers(name, keys, parent, country)
            for reader in readers:
                pieces[reader].append(piece)
            if name in ("indicator_values", "reporting_rates"):
                found.add((keys[0], keys[1]))
            if name in ("indicator_values", "indicator_series"):
                for reader in readers:
                    value_codes[reader].add(keys[1])

    reports = units_to_report(cycle.hierarchy, found, units)
    digests: dict[Key, str] = {}
    for unit in reports:
        digest = base.copy()
        digest.update("\n".join(sorted(pieces[(unit.level, unit.code)])).encode())
        digests[(unit.level, unit.code)] = digest.hexdigest()
    return CycleInputs(
        units=reports,
        digests=digests,
        value_codes=dict(value_codes),
        generated_from=wh.describe(),
        has_figures=bool(groups["indicator_values"] or groups["return_status"]),
    )


def _parents(units: Mapping[Key, Mapping[str, Any]], *, has_districts: bool) -> dict[Key, Key]:
    """The report whose breakdown shows each unit: a commune in its district's (its province's
    after the reform), a district in its province's."""
    out: dict[Key, Key] = {}
    for (level, code), row in units.items():
        if level == "commune" and has_districts:
            above = ("district", row["district_code"])
        elif level in ("commune", "district"):
            above = ("province", row["province_code"])
        else:
            continue
        if above[1]:
            out[(level, code)] = above
    return out


def _readers(query: str, keys: list[Any], parent: Mapping[Key, Key], country: Key) -> list[Key]:
    """The reports that read a group of rows of input `query`, by the group's keys (None for
    none)."""
    out: list[Key] = []
    if query in ("indicator_values", "reporting_rates"):
        level, code = keys
        out.append((level, code))
        above = parent.get((level, code))
        # A commune's rates are in no report (its breakdown row shows its own return).
        if above and not (query == "reporting_rates" and level == "commune"):
            out.append(above)
        if level == "province":
            out.append(country)  # the country's breakdown
    elif query == "indicator_series":
        out.append((keys[0], keys[1]))  # a unit's series is in its own report only
    elif query in ("return_status", "quality_issues"):
        district, province = keys[-2:]
        out.append(country)
        if district:
            out.append(("district", district))
        if province:
            out.append(("province", province))
        # A district's breakdown (a province's after the reform) shows each commune's return.
        if query == "return_status" and keys[0] == "commune" and ("commune", keys[1]) in parent:
            out.append(parent[("commune", keys[1])])
    elif query == "signoff_states":
        # the unit's own report says what it is; the country's lists the units left
        out += [(keys[0], keys[1]), country]
    elif query == "pending_revisions":
        out.append((keys[0], keys[1]))  # the cells marked in the signed unit's report
    return list(dict.fromkeys(out))
