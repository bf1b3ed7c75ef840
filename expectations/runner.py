"""Validate a cycle: read each suite's check-ready table from the warehouse, run the suite with
GX, turn every failing row into a finding, write `quality.findings` and
`quality.validation_runs`, and leave GX Data Docs for the run.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core import ledger
from core.cycles import Cycle
from core.settings import Settings
from core.values import is_missing, number, text
from core.warehouse import Warehouse, WarehouseConnection
from expectations.findings import (
    FINDING_COLUMNS,
    cycle_rows,
    empty_findings,
    ensure_quality_layer,
    finding_key,
    replace_provinces,
    replace_runs,
    run_key,
)
from expectations.gx_runtime import SuiteOutcome, gx_run
from expectations.messages import Language, fill
from expectations.suites import SQL_TYPES, Rule, Severity, Suite, load_suites, rule_catalogue

STEP = "validate"
"""The step's entries in core.ledger: per cycle, item `province/<code>`, the digest of the
province's check rows (and of the suites and this package's code) when it was last validated."""


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
    provinces_validated: tuple[str, ...] | None = None
    """The provinces whose check rows this run validated (their rows had changed since); None
    when it validated the whole cycle. The figures above are always the whole cycle's."""

    @property
    def errors(self) -> int:
        return sum(c.findings for c in self.counts if c.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(c.findings for c in self.counts if c.severity == "warning")

    def count(self, rule_id: str) -> int:
        return sum(c.findings for c in self.counts if c.rule_id == rule_id)


def run_validation(
    settings: Settings,
    cycle: Cycle,
    data_docs_dir: Path | None = None,
    *,
    whole_cycle: bool = False,
) -> ValidationSummary:
    """Run the suites against the cycle's check-ready tables; replace the cycle's findings.

    Every expectation checks one row at a time, and every check row belongs to a province, so
    the cycle's findings are the union of its provinces'. The warehouse digests each province's
    check rows (with the suites' and this package's code): only the provinces whose digest
    changed since the last validation are validated again and their findings replaced; a late
    return's re-run validates one province. The first validation, changed suites, another Data
    Docs folder or `whole_cycle=True` validate the whole cycle.

    Data Docs (of the rows this run validated) go to `data_docs_dir` (default
    `<reports>/<cycle>/data_docs/`). Raises CheckTableError when dbt has not built a table or a
    table breaks its contract.
    """
    suites = load_suites()
    docs_dir = (
        data_docs_dir if data_docs_dir is not None else (settings.reports / cycle.id / "data_docs")
    )
    key = run_key(cycle.id)
    warehouse = Warehouse(settings.warehouse)
    with warehouse.connect() as con:
        ensure_quality_layer(con)
        digests, evaluated = province_digests(con, suites, cycle.id)
        done = {} if whole_cycle else _validated_digests(con, cycle.id, docs_dir / "index.html")
        changed = sorted(p for p in digests.keys() | done.keys() if digests.get(p) != done.get(p))
        if done and not changed:  # nothing to validate: the cycle as the last runs left it
            return _summary(con, cycle.id, key, suites, provinces=())
        provinces = changed if done and set(changed) < digests.keys() else None
        frames = {s.name: read_check_table(con, s, cycle.id, provinces) for s in suites}

    scope = "" if provinces is None else f" (provinces {', '.join(provinces)})"
    with gx_run(f"{cycle.id}{scope}", docs_dir) as run:
        outcomes = {
            suite.name: run.validate(suite, frames.pop(suite.name))
            for suite in suites
            if not frames[suite.name].empty
        }
        index = run.build_data_docs()
    run_at = datetime.now(UTC).replace(tzinfo=None)

    with warehouse.connect() as con:
        failing = {
            s.name: failing_rows(
                s, read_failing_rows(con, s, cycle.id, outcomes[s.name]), outcomes[s.name]
            )
            for s in suites
            if s.name in outcomes
        }
        parts = [
            suite_findings(s, rows, cycle.id, key) for s in suites if (rows := failing.get(s.name))
        ]
        non_empty = [p for p in parts if not p.empty]
        found = pd.concat(non_empty, ignore_index=True) if non_empty else empty_findings()
        validated = sorted(digests) if provinces is None else provinces
        slices = _slices(cycle.id, suites, validated, digests, evaluated, failing)
        findings = _sorted(suppress(found, suites).drop_duplicates("finding_key"))
        with con.transaction():
            replace_provinces(con, cycle.id, provinces, findings, slices)
            replace_runs(con, cycle.id, _runs(con, cycle.id, key, suites, index, run_at))
            if provinces is None:
                ledger.reset(con, STEP, cycle.id)
            ledger.record(
                con,
                STEP,
                cycle.id,
                [ledger.Entry(f"province/{p}", digests[p]) for p in validated if p in digests],
                forget=[f"province/{p}" for p in validated if p not in digests],
            )
        return _summary(con, cycle.id, key, suites, provinces=provinces)


def province_digests(
    con: WarehouseConnection, suites: Sequence[Suite], cycle_id: str
) -> tuple[dict[str, str], dict[tuple[str, str], int]]:
    """By province ('' for rows without one): the digest of its check rows in every suite's
    table (every declared column), of the suites and of this package's code; and the rows of
    each (province, suite). Hashed by the warehouse, without reading the rows out. Raises
    CheckTableError when a table is missing or lacks a declared column."""
    pieces: dict[str, list[str]] = defaultdict(list)
    evaluated: dict[tuple[str, str], int] = {}
    for suite in suites:
        check_table(con, suite)
        row_hash = con.row_hash(list(suite.columns))
        rows = con.query(
            f"select coalesce(province_code, ''), count(*), sum({row_hash})"
            f" from {suite.table} where cycle = ? group by 1",
            [cycle_id],
        )
        for province, count, hashed in rows:
            pieces[str(province)].append(f"{suite.name}:{count}:{hashed}")
            evaluated[(str(province), suite.name)] = int(count)
    code = _code_digest()
    digests = {
        province: hashlib.sha256("\n".join([code, *sorted(parts)]).encode()).hexdigest()
        for province, parts in pieces.items()
    }
    return digests, evaluated


@functools.cache
def _code_digest() -> str:
    """The suites and the code that turns their results into findings."""
    digest = hashlib.sha256()
    folder = Path(__file__).parent
    for path in sorted([*folder.glob("*.py"), *folder.glob("suites/*.json")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _validated_digests(con: WarehouseConnection, cycle_id: str, docs_index: Path) -> dict[str, str]:
    """The provinces' digests as the last validation of the cycle left them; none when it wrote
    its Data Docs elsewhere (this run's are then of the whole cycle)."""
    runs = con.query(
        "select distinct data_docs_index from quality.validation_runs where cycle = ?", [cycle_id]
    )
    if [row[0] for row in runs] != [str(docs_index)]:
        return {}
    return {
        item.removeprefix("province/"): entry.digest
        for item, entry in ledger.recorded(con, STEP, cycle_id).items()
    }


def _slices(
    cycle_id: str,
    suites: Sequence[Suite],
    provinces: Sequence[str],
    digests: Mapping[str, str],
    evaluated: Mapping[tuple[str, str], int],
    failing: Mapping[str, FailingRows],
) -> list[tuple[object, ...]]:
    """quality.validation_slices rows of the provinces validated: per suite and rule, the rows
    evaluated and failing in each."""
    failed = Counter(
        (suite, index, text(row["province_code"]) or "")
        for suite, by_rule in failing.items()
        for index, rows in by_rule.items()
        for row in rows
    )
    rows: list[tuple[object, ...]] = []
    for province in provinces:
        if province not in digests:  # its rows are gone: nothing left to record
            continue
        for suite in suites:
            count = evaluated.get((province, suite.name), 0)
            if not count:
                continue
            rows += [
                (
                    cycle_id,
                    province,
                    suite.name,
                    index,
                    count,
                    failed[(suite.name, index, province)],
                )
                for index in range(len(suite.rules))
            ]
    return rows


def _runs(
    con: WarehouseConnection,
    cycle_id: str,
    key: str,
    suites: Sequence[Suite],
    index: Path | None,
    run_at: datetime,
) -> pd.DataFrame:
    """quality.validation_runs of the cycle, one row per suite, summed over its provinces."""
    rows = con.query(
        "select suite, rule_index, sum(evaluated), sum(unexpected)"
        " from quality.validation_slices where cycle = ? group by suite, rule_index",
        [cycle_id],
    )
    per_rule = {(str(s), int(i)): (int(n), int(u)) for s, i, n, u in rows}
    findings = dict(
        con.query(
            "select suite, count(*) from quality.findings where cycle = ? group by suite",
            [cycle_id],
        )
    )
    records = []
    for suite in suites:
        counts = [per_rule.get((suite.name, i), (0, 0)) for i in range(len(suite.rules))]
        failed = sum(1 for _, unexpected in counts if unexpected)
        records.append(
            {
                "run_key": key,
                "cycle": cycle_id,
                "suite": suite.name,
                "table_name": suite.table,
                "success": failed == 0,
                "evaluated": counts[0][0] if counts else 0,
                "unexpected": sum(unexpected for _, unexpected in counts),
                "findings": int(findings.get(suite.name, 0)),
                "expectations": len(suite.rules),
                "expectations_failed": failed,
                "data_docs_index": str(index) if index else None,
                "run_at": run_at,
            }
        )
    return pd.DataFrame(records)


def _summary(
    con: WarehouseConnection,
    cycle_id: str,
    key: str,
    suites: Sequence[Suite],
    provinces: Sequence[str] | None,
) -> ValidationSummary:
    """The cycle's validation as the warehouse holds it."""
    per_rule = dict(
        con.query(
            "select rule_id, count(*) from quality.findings where cycle = ? group by rule_id",
            [cycle_id],
        )
    )
    runs = {
        str(row[0]): row[1:]
        for row in con.query(
            "select suite, success, evaluated, unexpected, findings, expectations,"
            " expectations_failed, data_docs_index from quality.validation_runs where cycle = ?",
            [cycle_id],
        )
    }
    suite_runs = tuple(
        SuiteRun(
            suite=s.name,
            table=s.table,
            success=bool(runs[s.name][0]),
            evaluated=int(runs[s.name][1]),
            unexpected=int(runs[s.name][2]),
            findings=int(runs[s.name][3]),
            expectations=int(runs[s.name][4]),
            expectations_failed=int(runs[s.name][5]),
        )
        for s in suites
    )
    index = next((row[6] for row in runs.values() if row[6]), None)
    counts = tuple(
        RuleCount(rule_id, severity, int(per_rule.get(rule_id, 0)))
        for rule_id, severity in rule_catalogue(list(suites)).items()
    )
    return ValidationSummary(
        cycle=cycle_id,
        run_key=key,
        success=all(r.success for r in suite_runs),
        findings=sum(c.findings for c in counts),
        counts=counts,
        suites=suite_runs,
        data_docs_index=Path(index) if index else None,
        provinces_validated=None if provinces is None else tuple(provinces),
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


def read_check_table(
    con: WarehouseConnection,
    suite: Suite,
    cycle_id: str,
    provinces: Sequence[str] | None = None,
) -> pd.DataFrame:
    """What GX validates: the cycle's rows of a suite's table (of these provinces only, '' for
    rows without one), only the key and the checked columns, types normalised (both backends
    give the same frame), the key checked. The table is one `check_table` accepted."""
    select = ", ".join(f'"{c}"' for c in suite.check_columns)
    where, params = cycle_rows(cycle_id, provinces)
    frame = con.query_df(f"select {select} from {suite.table} where {where}", params)
    frame = normalise_frame(frame, {c: suite.columns[c] for c in suite.check_columns})
    # DuckDB groups 500,000 keys in under half the time pandas takes to hash their strings;
    # on PostgreSQL another scan of the table would cost more than it saves.
    if con.kind == "duckdb" and _key_is_sound(con, suite, where, params):
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


def _key_is_sound(con: WarehouseConnection, suite: Suite, where: str, params: list[str]) -> bool:
    """No null in the key and no key twice among the rows read."""
    key = ", ".join(f'"{c}"' for c in suite.id_columns)
    null = " or ".join(f'"{c}" is null' for c in suite.id_columns)
    ((groups, rows, nulls),) = con.query(
        f"select count(*), sum(n), sum(case when {null} then 1 else 0 end) from ("
        f"select {key}, count(*) as n from {suite.table} where {where} group by {key}) g",
        params,
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
            column_values = frame[column].astype(object)
            frame[column] = (
                column_values.where(column_values.notna(), None)
                if column_values.hasnans
                else column_values
            )
    return frame


def rule_findings(
    suite: Suite, rule: Rule, failing: Iterable[Mapping[str, Any]], cycle_id: str, key: str
) -> list[dict[str, Any]]:
    """One finding per failing row (every declared column) of one rule."""
    rows = []
    for row in failing:
        element: str | None = rule.element_code
        if element is None and rule.element_column:
            element = text(row[rule.element_column])
        indicator = text(row[rule.indicator_column]) if rule.indicator_column else None
        reporter = text(row[rule.reporter_column])
        unit = text(row["unit_code"])
        observed = number(row[rule.observed_column]) if rule.observed_column else None
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
                "unit_level": text(row["unit_level"]),
                "unit_name": text(row["unit_name"]),
                "district_code": text(row["district_code"]),
                "province_code": text(row["province_code"]),
                "element_code": element,
                "indicator_code": indicator,
                "observed_value": observed,
                "expected_value": fill(rule.expected, row, "en"),
                "message_vi": _with_notes(fill(rule.message_vi, row, "vi"), rule, row, "vi"),
                "message_en": _with_notes(fill(rule.message_en, row, "en"), rule, row, "en"),
            }
        )
    return rows


def _with_notes(message: str, rule: Rule, row: Mapping[str, Any], language: Language) -> str:
    """The message, followed by the rule's notes whose column is true in the row."""
    for note in rule.notes:
        flag = row[note.column]
        if not is_missing(flag) and bool(flag):
            template = note.message_vi if language == "vi" else note.message_en
            message += " " + fill(template, row, language)
    return message


FailingRows = dict[int, list[dict[str, Any]]]
"""A suite run's failing rows (every declared column) by rule index."""


def failing_rows(suite: Suite, frame: pd.DataFrame, outcome: SuiteOutcome) -> FailingRows:
    """The rows each expectation of a suite run found failing; `frame` holds (at least) the
    failing rows with every declared column, one row per key."""
    id_columns = list(suite.id_columns)
    failing: FailingRows = {}
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
            failing[result.rule_index] = [
                by_key[k] for k in zip(*(keys[c] for c in id_columns), strict=True)
            ]
        except KeyError:
            raise RuntimeError(
                f"GX reported rows of {suite.table} that the frame does not hold"
            ) from None
    return failing


def suite_findings(suite: Suite, failing: FailingRows, cycle_id: str, key: str) -> pd.DataFrame:
    """Every failing row of one suite run as a finding (before suppression)."""
    found: list[dict[str, Any]] = []
    for index, rows in sorted(failing.items()):
        found += rule_findings(suite, suite.rules[index], rows, cycle_id, key)
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
