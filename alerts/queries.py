"""What the alerts read from the warehouse: the two marts of the quality step, nothing else.

Kept in one place so a change of the marts' names or columns is one edit here.
"""

from __future__ import annotations

import pandas as pd

from core.cycles import Cycle
from core.warehouse import WarehouseConnection

RETURN_STATUS = ("marts", "fct_return_status")
QUALITY_ISSUES = ("marts", "fct_quality_issues")

RETURN_STATUS_COLUMNS = (
    "reporter_code", "reporter_name", "reporter_kind", "unit_code", "district_code",
    "province_code", "received", "deadline",
)
QUALITY_ISSUES_COLUMNS = (
    "rule_id", "severity", "reporter_code", "unit_code", "unit_name", "district_code",
    "province_code", "element_code", "indicator_code", "observed_value", "expected_value",
    "message_vi", "message_en",
)


class MartMissing(RuntimeError):
    """A mart the alerts need is not in the warehouse (the quality step has not run)."""


def _select(con: WarehouseConnection, table: tuple[str, str], columns: tuple[str, ...],
            cycle: Cycle) -> pd.DataFrame:
    schema, name = table
    if not con.table_exists(schema, name):
        raise MartMissing(
            f"{schema}.{name} không có trong kho dữ liệu / is not in the warehouse: "
            f"run `cycle validate {cycle.id}` first"
        )
    listed = ", ".join(columns)
    return con.query_df(f"select {listed} from {schema}.{name} where cycle = ?", [cycle.id])


def read_return_status(con: WarehouseConnection, cycle: Cycle) -> pd.DataFrame:
    """Every expected reporter of the cycle: whether its return arrived, and its deadline."""
    return _select(con, RETURN_STATUS, RETURN_STATUS_COLUMNS, cycle)


def read_quality_issues(con: WarehouseConnection, cycle: Cycle) -> pd.DataFrame:
    """Every quality finding of the cycle."""
    return _select(con, QUALITY_ISSUES, QUALITY_ISSUES_COLUMNS, cycle)
