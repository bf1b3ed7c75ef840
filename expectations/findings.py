"""The quality layer of the warehouse: one row per finding, one row per suite run.

dbt exposes `quality.findings` as `marts.fct_quality_issues`. Both tables are rewritten per
cycle (delete the cycle's rows, insert the new ones, in one transaction), so validating a cycle
again leaves the same rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.values import is_missing
from core.warehouse import WarehouseConnection

if TYPE_CHECKING:
    import pandas as pd

FINDING_COLUMNS = (
    "finding_key",
    "run_key",
    "cycle",
    "suite",
    "rule_id",
    "severity",
    "reporter_code",
    "unit_code",
    "unit_level",
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
RUN_COLUMNS = (
    "run_key",
    "cycle",
    "suite",
    "table_name",
    "success",
    "evaluated",
    "unexpected",
    "findings",
    "expectations",
    "expectations_failed",
    "data_docs_index",
    "run_at",
)

DDL = (
    "create schema if not exists quality",
    """
    create table if not exists quality.findings (
        finding_key varchar not null,
        run_key varchar not null,
        cycle varchar not null,
        suite varchar not null,
        rule_id varchar not null,
        severity varchar not null,
        reporter_code varchar,
        unit_code varchar not null,
        unit_level varchar,
        unit_name varchar,
        district_code varchar,
        province_code varchar,
        element_code varchar,
        indicator_code varchar,
        observed_value double precision,
        expected_value varchar,
        message_vi varchar not null,
        message_en varchar not null,
        primary key (cycle, finding_key)
    )
    """,
    """
    create table if not exists quality.validation_runs (
        run_key varchar not null,
        cycle varchar not null,
        suite varchar not null,
        table_name varchar not null,
        success boolean not null,
        evaluated bigint not null,
        unexpected bigint not null,
        findings bigint not null,
        expectations integer not null,
        expectations_failed integer not null,
        data_docs_index varchar,
        run_at timestamp not null,
        primary key (cycle, suite)
    )
    """,
    """
    create table if not exists quality.validation_slices (
        cycle varchar not null,
        province_code varchar not null,
        suite varchar not null,
        rule_index integer not null,
        evaluated bigint not null,
        unexpected bigint not null,
        primary key (cycle, province_code, suite, rule_index)
    )
    """,
)


def ensure_quality_layer(con: WarehouseConnection) -> None:
    for statement in DDL:
        con.execute(statement)
    if con.query(
        "select 1 from information_schema.columns where table_schema = 'quality' "
        "and table_name = 'validation_slices' and column_name = 'digest'"
    ):  # a warehouse of before core.ledger, which holds the provinces' digests now
        con.execute("alter table quality.validation_slices drop column digest")


def run_key(cycle_id: str) -> str:
    """The key of a cycle's validation run: derived from the cycle alone, so a re-run replaces
    the previous run's rows instead of adding new ones."""
    return f"validate:{cycle_id}"


def finding_key(
    cycle: str,
    rule_id: str,
    reporter_code: object,
    unit_code: object,
    element_code: object,
    indicator_code: object,
) -> str:
    """A stable identity for a finding: the same problem keeps its key across re-runs (alerts use
    it to tell new findings from ones already sent)."""
    parts = [cycle, rule_id, reporter_code, unit_code, element_code, indicator_code]
    text = "|".join("" if is_missing(p) else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def empty_findings() -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in FINDING_COLUMNS})
    frame["observed_value"] = frame["observed_value"].astype("float64")
    return frame


SLICE_COLUMNS = (
    "cycle",
    "province_code",
    "suite",
    "rule_index",
    "evaluated",
    "unexpected",
)
"""quality.validation_slices: per province of a cycle, suite and rule, the rows validated and
those failing."""


def cycle_rows(cycle_id: str, provinces: Sequence[str] | None) -> tuple[str, list[str]]:
    """A predicate (and its parameters) on a cycle's rows, of these provinces only ('' for rows
    without one); None: every row of the cycle."""
    if provinces is None:
        return "cycle = ?", [cycle_id]
    marks = ", ".join("?" for _ in provinces) or "null"
    return f"cycle = ? and coalesce(province_code, '') in ({marks})", [cycle_id, *provinces]


def replace_provinces(
    con: WarehouseConnection,
    cycle_id: str,
    provinces: Sequence[str] | None,
    findings: pd.DataFrame,
    slices: Sequence[tuple[object, ...]],
) -> None:
    """Swap the findings and slices of these provinces of the cycle (None: of the whole cycle)
    for these, inside the caller's transaction. A province is '' for rows without one."""
    where, params = cycle_rows(cycle_id, provinces)
    con.execute(f"delete from quality.findings where {where}", params)
    con.execute(f"delete from quality.validation_slices where {where}", params)
    con.insert_df("quality.findings", findings.loc[:, list(FINDING_COLUMNS)])
    con.insert_rows("quality.validation_slices", SLICE_COLUMNS, slices)


def replace_runs(con: WarehouseConnection, cycle_id: str, runs: pd.DataFrame) -> None:
    """Swap the cycle's rows of quality.validation_runs, inside the caller's transaction."""
    con.execute("delete from quality.validation_runs where cycle = ?", [cycle_id])
    con.insert_df("quality.validation_runs", runs.loc[:, list(RUN_COLUMNS)])
