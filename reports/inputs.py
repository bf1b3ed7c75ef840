"""What each report of a cycle reads, digested by the warehouse, so that a re-run after a late
return renders only the reports whose inputs changed.

A report reads (see `reports.load.ReportBuilder`):

- its own unit's indicator values and reporting rates, and those of its parts: a district's
  communes, a province's districts (its communes after the July 2025 reform), the country's
  provinces (and its own rows when the marts hold any);
- the returns and quality findings inside it (the country: all of them), and for a district
  (or a province after the reform) the return of each of its communes;
- the country alone: the previous comparable cycle's province and country values;
- every report: `dim_admin_units` (names, the hierarchy) and `dim_indicators`.

The warehouse hashes those rows in groups (one unit's values, one reporter's return, the
findings of one district...), every column the reports read; a report's digest is the hash of
its groups' hashes, of the renderer's code and of the cycle's settings. A national cycle is a
few thousand groups, hashed in a fraction of a second without reading the rows out.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.cycles import Cycle
from core.warehouse import Warehouse, WarehouseConnection
from reports.load import (
    COUNTRY_CODE,
    FILTERS,
    MART_COLUMNS,
    UnitRef,
    check_marts,
    clean_text,
    query_params,
    units_to_report,
)

Key = tuple[str, str]
"""A report, or a unit: (level, code)."""

COUNTRY: Key = ("country", COUNTRY_CODE)

GROUPS: dict[str, tuple[str, ...]] = {
    # query (`reports.load.FILTERS`): the columns its rows are grouped by before hashing
    "indicator_values": ("unit_level", "unit_code"),
    "previous_top_values": (),
    "return_status": ("reporter_kind", "reporter_code", "district_code", "province_code"),
    "reporting_rates": ("unit_level", "unit_code"),
    "quality_issues": ("district_code", "province_code"),
    "admin_units": (),
    "indicators": (),
}

_ADMIN_COLUMNS = (
    "unit_level",
    "unit_code",
    "name_vi",
    "name_ascii",
    "district_code",
    "province_code",
)


def group_sql(con: WarehouseConnection, query: str) -> str:
    """A query's rows per group: how many, and the sum of their hashes (the order the rows come
    in does not matter; every value of every column the reports read does)."""
    mart, where = FILTERS[query]
    keys = ", ".join(GROUPS[query])
    row_hash = con.row_hash(MART_COLUMNS[mart])
    return (
        f"select {keys + ', ' if keys else ''}count(*), sum({row_hash}) from marts.{mart}"
        + (f" where {where}" if where else "")
        + (f" group by {keys}" if keys else "")
    )


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
        """The units whose indicator values building these reports needs. The country's parts
        (the provinces) always: `ReportBuilder` sums the country from them."""
        codes = set(self.value_codes.get(COUNTRY, ()))
        for unit in units:
            codes |= self.value_codes.get((unit.level, unit.code), set())
        return codes


def read_inputs(warehouse: str | Warehouse, cycle: Cycle, renderer: bytes) -> CycleInputs:
    """Digest what each report of the cycle reads; `renderer` is the digest of the code that
    renders them. Read-only."""
    wh = warehouse if isinstance(warehouse, Warehouse) else Warehouse(warehouse)
    params = query_params(cycle)
    with wh.connect(read_only=True) as con:
        checked = check_marts(con, wh, cycle)
        groups = {
            query: con.query(group_sql(con, query), params[query])
            for query in GROUPS
            if query != "quality_issues" or checked
        }
        admin_rows = con.query(
            f"select {', '.join(_ADMIN_COLUMNS)} from marts.dim_admin_units"
            f" where {FILTERS['admin_units'][1]}",
            params["admin_units"],
        )

    cleaned: dict[Any, str] = {}

    def clean(value: Any) -> str:
        # The same few thousand codes come back again and again: clean each once.
        if value not in cleaned:
            cleaned[value] = clean_text(value) or ""
        return cleaned[value]

    units: dict[Key, dict[str, Any]] = {}
    for row in admin_rows:
        r = dict(zip(_ADMIN_COLUMNS, (clean(v) or None for v in row), strict=True))
        units[(r["unit_level"] or "", r["unit_code"] or "")] = r
    parent = _parents(units, has_districts=cycle.has_districts)

    base = hashlib.sha256(renderer)
    settings = (cycle.id, cycle.previous_comparable.id, cycle.hierarchy, cycle.is_annual)
    base.update(repr((*settings, wh.describe(), checked)).encode())
    for query in ("admin_units", "indicators"):
        base.update(repr(groups[query]).encode())

    pieces: dict[Key, list[str]] = defaultdict(list)
    value_codes: dict[Key, set[str]] = defaultdict(set)
    found: set[Key] = set()
    for query, rows in groups.items():
        for row in rows:
            *raw_keys, count, total = row
            keys = [clean(v) for v in raw_keys]
            piece = f"{query}:{count}:{total}"
            readers = _readers(query, keys, parent)
            for reader in readers:
                pieces[reader].append(piece)
            if query in ("indicator_values", "reporting_rates"):
                found.add((keys[0], keys[1]))
            if query == "indicator_values" and raw_keys[1] is not None:
                for reader in readers:
                    value_codes[reader].add(raw_keys[1])

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


def _readers(query: str, keys: list[str], parent: Mapping[Key, Key]) -> list[Key]:
    """The reports that read a group of rows of `query`, by the group's cleaned keys ("" for
    none)."""
    out: list[Key] = []
    if query in ("indicator_values", "reporting_rates"):
        level, code = keys
        out.append((level, code))
        above = parent.get((level, code))
        # A commune's rates are in no report (its breakdown row shows its own return).
        if above and not (query == "reporting_rates" and level == "commune"):
            out.append(above)
        if level in ("province", "country"):
            out.append(COUNTRY)
    elif query in ("return_status", "quality_issues"):
        district, province = keys[-2:]
        out.append(COUNTRY)
        if district:
            out.append(("district", district))
        if province:
            out.append(("province", province))
        # A district's breakdown (a province's after the reform) shows each commune's return.
        if query == "return_status" and keys[0] == "commune" and ("commune", keys[1]) in parent:
            out.append(parent[("commune", keys[1])])
    elif query == "previous_top_values":
        out.append(COUNTRY)
    return list(dict.fromkeys(out))
