"""What the alerts read from the warehouse: the two marts of the quality step, nothing else.

Kept in one place so a change of the marts' names or columns is one edit here. Each column is
listed with the names it may have in the mart (the first one found is read, under the first
name); required columns that are absent are an error naming them, optional ones read as NULL.
"""

from __future__ import annotations

import pandas as pd

from core.cycles import Cycle
from core.warehouse import WarehouseConnection

RETURN_STATUS = ("marts", "fct_return_status")
QUALITY_ISSUES = ("marts", "fct_quality_issues")

Columns = tuple[tuple[tuple[str, ...], bool], ...]
"""((names the column may have, required), ...)"""

RETURN_STATUS_COLUMNS: Columns = (
    (("reporter_code",), True),
    (("reporter_name", "reporter_name_vi"), False),
    (("reporter_kind",), False),
    (("district_code",), True),
    (("province_code",), True),
    (("received",), True),
    (("deadline",), False),
)
QUALITY_ISSUES_COLUMNS: Columns = (
    (("rule_id",), True),
    (("severity",), True),
    (("reporter_code",), True),
    (("unit_code",), False),
    (("unit_name", "unit_name_vi"), False),
    (("district_code",), True),
    (("province_code",), True),
    (("element_code",), False),
    (("indicator_code",), False),
    (("observed_value",), False),
    (("expected_value",), False),
    (("message_vi",), True),
    (("message_en",), False),
)


class MartMissing(RuntimeError):
    """A mart the alerts need is not in the warehouse, or lacks a column they need."""


def _select(
    con: WarehouseConnection, table: tuple[str, str], columns: Columns, cycle: Cycle
) -> pd.DataFrame:
    schema, name = table
    present = {
        str(row[0]).lower()
        for row in con.query(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        )
    }
    if not present:
        raise MartMissing(
            f"{schema}.{name} không có trong kho dữ liệu / is not in the warehouse: "
            f"run `cycle validate {cycle.id}` first"
        )
    select: list[str] = []
    absent: list[str] = []
    for names, required in columns:
        found = next((n for n in names if n in present), None)
        if found is None and required:
            absent.append(" or ".join(names))
        select.append(f"{found} as {names[0]}" if found else f"null as {names[0]}")
    if absent:
        raise MartMissing(
            f"{schema}.{name} lacks the column(s) the alerts need: {', '.join(absent)}"
        )
    return con.query_df(
        f"select {', '.join(select)} from {schema}.{name} where cycle = ?", [cycle.id]
    )


def read_return_status(con: WarehouseConnection, cycle: Cycle) -> pd.DataFrame:
    """Every expected reporter of the cycle: whether its return arrived, and its deadline."""
    return _select(con, RETURN_STATUS, RETURN_STATUS_COLUMNS, cycle)


def read_quality_issues(con: WarehouseConnection, cycle: Cycle) -> pd.DataFrame:
    """Every quality finding of the cycle."""
    return _select(con, QUALITY_ISSUES, QUALITY_ISSUES_COLUMNS, cycle)


SIGNOFF_STATES = ("marts", "fct_signoff_states")


def read_signoff_states(con: WarehouseConnection, cycle: Cycle) -> pd.DataFrame | None:
    """The cycle's signing units with their revision pending, if any; None when the warehouse
    has no sign-off yet (built before it)."""
    if not con.table_exists(*SIGNOFF_STATES):
        return None
    return con.query_df(
        "select unit_level, unit_code, revision, pending_revision, figures_pending,"
        " returns_pending from marts.fct_signoff_states where cycle = ?",
        [cycle.id],
    )
