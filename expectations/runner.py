"""Validate a cycle: read each suite's check-ready table from the warehouse, run the suite with
GX, turn every failing row into a finding, write `quality.findings` and
`quality.validation_runs`, and leave GX Data Docs for the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.cycles import Cycle
from core.settings import Settings
from core.warehouse import Warehouse, WarehouseConnection
from expectations.findings import (
    FINDING_COLUMNS,
    empty_findings,
    finding_key,
    replace_cycle,
    run_key,
)
from expectations.gx_runtime import SuiteOutcome, gx_run
from expectations.messages import fill, is_missing
from expectations.suites import SQL_TYPES, Rule, Severity, Suite, load_suites, rule_catalogue


class CheckTableError(RuntimeError):
    """A check-ready table that is missing or breaks its contract (see expectations/README.md)."""


@dataclass(frozen=True)
class RuleCount:
    rule_id: str
    severity: Severity
    findings: int


@dataclass(frozen=True)
class SuiteRun:
    suite: str
    table: str
    success: bool
    evaluated: int
    """Rows of the table for the cycle."""
    unexpected: int
    """Failing rows summed over the suite's expectations (before suppression)."""
    findings: int
    expectations: int
    expectations_failed: int


@dataclass(frozen=True)
class ValidationSummary:
    cycle: str
    run_key: str
    success: bool
    """True when every expectation of every suite passed."""
    findings: int
    counts: tuple[RuleCount, ...]
    """Findings per rule (every rule, zero included), in suite order."""
    suites: tuple[SuiteRun, ...]
    data_docs_index: Path | None

    @property
    def errors(self) -> int:
        return sum(c.findings for c in self.counts if c.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(c.findings for c in self.counts if c.severity == "warning")

    def count(self, rule_id: str) -> int:
        return sum(c.findings for c in self.counts if c.rule_id == rule_id)


def run_validation(
    settings: Settings, cycle: Cycle, data_docs_dir: Path | None = None
) -> ValidationSummary:
    """Run every suite against the cycle's check-ready tables; replace the cycle's findings.

    Data Docs go to `data_docs_dir` (default `<reports>/<cycle>/data_docs/`). Raises
    CheckTableError when dbt has not built a table or a table breaks its contract.
    """
    suites = load_suites()
    docs_dir = (
        data_docs_dir if data_docs_dir is not None else (settings.reports / cycle.id / "data_docs")
    )
    warehouse = Warehouse(settings.warehouse)
    with warehouse.connect() as con:
        frames = {suite.name: read_check_table(con, suite, cycle.id) for suite in suites}
    evaluated = {name: len(frame) for name, frame in frames.items()}

    key = run_key(cycle.id)
    with gx_run(cycle.id, docs_dir) as run:
        outcomes = {}
        for suite in suites:
            outcomes[suite.name] = run.validate(suite, frames.pop(suite.name))
        index = run.build_data_docs()
    run_at = datetime.now(UTC).replace(tzinfo=None)

    with warehouse.connect() as con:
        parts = [
            suite_findings(
                s,
                read_failing_rows(con, s, cycle.id, outcomes[s.name]),
                outcomes[s.name],
                cycle.id,
                key,
            )
            for s in suites
        ]
        non_empty = [p for p in parts if not p.empty]
        findings = pd.concat(non_empty, ignore_index=True) if non_empty else empty_findings()
        findings = _sorted(suppress(findings, suites).drop_duplicates("finding_key"))
        suite_runs = tuple(
            SuiteRun(
                suite=s.name,
                table=s.table,
                success=outcomes[s.name].success,
                evaluated=evaluated[s.name],
                unexpected=sum(o.unexpected_count for o in outcomes[s.name].outcomes),
                findings=int((findings["suite"] == s.name).sum()),
                expectations=outcomes[s.name].evaluated_expectations,
                expectations_failed=outcomes[s.name].failed_expectations,
            )
            for s in suites
        )
        runs = pd.DataFrame(
            [
                {
                    "run_key": key,
                    "cycle": cycle.id,
                    "suite": r.suite,
                    "table_name": r.table,
                    "success": r.success,
                    "evaluated": r.evaluated,
                    "unexpected": r.unexpected,
                    "findings": r.findings,
                    "expectations": r.expectations,
                    "expectations_failed": r.expectations_failed,
                    "data_docs_index": str(index) if index else None,
                    "run_at": run_at,
                }
                for r in suite_runs
            ]
        )
        replace_cycle(con, cycle.id, findings, runs)

    per_rule = Counter(findings["rule_id"])
    counts = tuple(
        RuleCount(rule_id, severity, per_rule.get(rule_id, 0))
        for rule_id, severity in rule_catalogue(suites).items()
    )
    return ValidationSummary(
        cycle=cycle.id,
        run_key=key,
        success=all(r.success for r in suite_runs),
        findings=len(findings),
        counts=counts,
        suites=suite_runs,
        data_docs_index=index,
    )


def check_table(con: WarehouseConnection, suite: Suite) -> None:
    """The table exists and has every declared column."""
    if not con.table_exists(suite.schema, suite.table_name):
        raise CheckTableError(
            f"{suite.table} does not exist in the warehouse: build the dbt models before "
            f"validating (suite {suite.name})"
        )
    present = {
        row[0]
        for row in con.query(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [suite.schema, suite.table_name],
        )
    }
    missing = [c for c in suite.columns if c not in present]
    if missing:
        raise CheckTableError(
            f"{suite.table} lacks column(s) {', '.join(missing)} that suite {suite.name} reads "
            "(see expectations/README.md)"
        )


def read_check_table(con: WarehouseConnection, suite: Suite, cycle_id: str) -> pd.DataFrame:
    """What GX validates: the cycle's rows of a suite's table, only the key and the checked
    columns, types normalised (both backends give the same frame), the key checked."""
    check_table(con, suite)
    select = ", ".join(f'"{c}"' for c in suite.check_columns)
    frame = con.query_df(f"select {select} from {suite.table} where cycle = ?", [cycle_id])
    frame = normalise_frame(frame, {c: suite.columns[c] for c in suite.check_columns})
    # DuckDB groups 500,000 keys in under half the time pandas takes to hash their strings;
    # on PostgreSQL another scan of the table would cost more than it saves.
    if con.kind == "duckdb" and _key_is_sound(con, suite, cycle_id):
        return frame
    keys = frame.loc[:, list(suite.id_columns)]
    if keys.isna().any().any():
        raise CheckTableError(f"{suite.table}: null in key columns {list(suite.id_columns)}")
    duplicated = keys.duplicated()
    if duplicated.any():
        example = keys[duplicated].iloc[0].to_dict()
        raise CheckTableError(
            f"{suite.table}: {int(duplicated.sum())} rows repeat the key "
            f"{list(suite.id_columns)} (e.g. {example}); expected one row per {suite.grain}"
        )
    return frame


def _key_is_sound(con: WarehouseConnection, suite: Suite, cycle_id: str) -> bool:
    """No null in the key and no key twice among the cycle's rows."""
    key = ", ".join(f'"{c}"' for c in suite.id_columns)
    null = " or ".join(f'"{c}" is null' for c in suite.id_columns)
    ((groups, rows, nulls),) = con.query(
        f"select count(*), sum(n), sum(case when {null} then 1 else 0 end) from ("
        f"select {key}, count(*) as n from {suite.table} where cycle = ? group by {key}) g",
        [cycle_id],
    )
    return not nulls and groups == (rows or 0)


FAILING_KEYS = "qa_failing_keys"


def read_failing_rows(
    con: WarehouseConnection, suite: Suite, cycle_id: str, outcome: SuiteOutcome
) -> pd.DataFrame:
    """Every declared column of the rows GX reported failing (through a temporary table of
    their keys, the same on both backends)."""
    id_columns = list(suite.id_columns)
    parts = [o.unexpected_keys for o in outcome.outcomes if not o.unexpected_keys.empty]
    if not parts:
        return pd.DataFrame(columns=list(suite.columns))
    keys = pd.concat(parts, ignore_index=True).drop_duplicates()
    ddl = ", ".join(f'"{c}" {SQL_TYPES[suite.columns[c]]}' for c in id_columns)
    select = ", ".join(f't."{c}"' for c in suite.columns)
    join = " and ".join(f't."{c}" = k."{c}"' for c in id_columns)
    con.execute(f"create temporary table {FAILING_KEYS} ({ddl})")
    try:
        con.insert_df(FAILING_KEYS, keys)
        frame = con.query_df(
            f"select {select} from {suite.table} t join {FAILING_KEYS} k on {join} "
            "where t.cycle = ?",
            [cycle_id],
        )
    finally:
        con.execute(f"drop table {FAILING_KEYS}")
    return normalise_frame(frame, suite.columns)


def normalise_frame(frame: pd.DataFrame, types: Mapping[str, str]) -> pd.DataFrame:
    """Numbers as float64 with NaN for null (DuckDB gives Int64 with NA, PostgreSQL Decimal
    objects), text as objects with None for null, whatever the backend, so GX compares like
    with like."""
    # Columns are replaced, never written into: a shallow copy leaves the caller's frame as it
    # was without copying 500,000 rows.
    frame = frame.copy(deep=False)
    for column, kind in types.items():
        if kind in ("double", "integer"):
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
        elif kind == "varchar":
            text = frame[column].astype(object)
            frame[column] = text.where(text.notna(), None) if text.hasnans else text
    return frame


def _text(value: Any) -> str | None:
    return None if is_missing(value) else str(value)


def _number(value: Any) -> float | None:
    return None if is_missing(value) else float(value)


def rule_findings(
    suite: Suite, rule: Rule, failing: Iterable[Mapping[str, Any]], cycle_id: str, key: str
) -> list[dict[str, Any]]:
    """One finding per failing row (every declared column) of one rule."""
    rows = []
    for row in failing:
        element: str | None = rule.element_code
        if element is None and rule.element_column:
            element = _text(row[rule.element_column])
        indicator = _text(row[rule.indicator_column]) if rule.indicator_column else None
        reporter = _text(row[rule.reporter_column])
        unit = _text(row["unit_code"])
        observed = _number(row[rule.observed_column]) if rule.observed_column else None
        rows.append(
            {
                "finding_key": finding_key(
                    cycle_id, rule.rule_id, reporter, unit, element, indicator
                ),
                "run_key": key,
                "cycle": cycle_id,
                "suite": suite.name,
                "rule_id": rule.rule_id,
                "severity": rule.severity,
                "reporter_code": reporter,
                "unit_code": unit,
                "unit_level": _text(row["unit_level"]),
                "unit_name": _text(row["unit_name"]),
                "district_code": _text(row["district_code"]),
                "province_code": _text(row["province_code"]),
                "element_code": element,
                "indicator_code": indicator,
                "observed_value": observed,
                "expected_value": fill(rule.expected, row, "en"),
                "message_vi": fill(rule.message_vi, row, "vi"),
                "message_en": fill(rule.message_en, row, "en"),
            }
        )
    return rows


def suite_findings(
    suite: Suite, frame: pd.DataFrame, outcome: SuiteOutcome, cycle_id: str, key: str
) -> pd.DataFrame:
    """Every failing row of one suite run as a finding (before suppression); `frame` holds
    (at least) the failing rows with every declared column, one row per key."""
    id_columns = list(suite.id_columns)
    found: list[dict[str, Any]] = []
    by_key: dict[tuple[Any, ...], dict[str, Any]] | None = None
    for result in outcome.outcomes:
        if result.unexpected_keys.empty:
            continue
        if by_key is None:
            # The rows by key once per suite (a dict lookup per failing row, not a merge per
            # rule).
            records: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
            by_key = {tuple(r[c] for c in id_columns): r for r in records}
        keys = result.unexpected_keys.astype({c: frame[c].dtype for c in id_columns})
        try:
            failing = [by_key[k] for k in zip(*(keys[c] for c in id_columns), strict=True)]
        except KeyError:
            raise RuntimeError(
                f"GX reported rows of {suite.table} that the frame does not hold"
            ) from None
        rule = suite.rules[result.rule_index]
        found += rule_findings(suite, rule, failing, cycle_id, key)
    if not found:
        return empty_findings()
    return pd.DataFrame(found).loc[:, list(FINDING_COLUMNS)]


SUPPRESSION_KEY = ["reporter_code", "unit_code", "element_code"]
"""What makes two findings about the same figure."""


def suppress(findings: pd.DataFrame, suites: list[Suite]) -> pd.DataFrame:
    """Drop findings a rule's `suppressed_by` makes redundant: the same reporter, unit and
    element already has a finding of one of those rules (e.g. an over-time warning on a figure
    that already breaks a consistency rule)."""
    if findings.empty:
        return findings
    suppressors: dict[str, set[str]] = {}
    for suite in suites:
        for rule in suite.rules:
            suppressors.setdefault(rule.rule_id, set()).update(rule.suppressed_by)
    figure = pd.Series(
        list(zip(*(findings[c] for c in SUPPRESSION_KEY), strict=True)), index=findings.index
    )
    drop = pd.Series(False, index=findings.index)
    for rule_id, others in suppressors.items():
        if not others:
            continue
        flagged = set(figure[findings["rule_id"].isin(others)])
        drop |= (findings["rule_id"] == rule_id) & figure.map(flagged.__contains__).astype(bool)
    return findings[~drop]


def _sorted(findings: pd.DataFrame) -> pd.DataFrame:
    return findings.sort_values(
        ["rule_id", "unit_code", "reporter_code", "element_code", "indicator_code"],
        na_position="first",
    ).reset_index(drop=True)
