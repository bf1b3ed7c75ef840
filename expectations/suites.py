"""The quality rules as GX expectation suites, read from the JSON files in `expectations/suites/`.

Each file is a GX 1.x suite (`name`, `meta`, `expectations`) plus our own `meta`:

- suite `meta`: `table` (the check-ready table dbt provides), `grain` (one row per what),
  `id_columns` (the table's key within a cycle), `columns` (every column the rules read, with
  type and meaning: the contract with dbt, checked before each run);
- expectation `meta`: `rule_id`, `severity` (`error`|`warning`), `message_vi`, `message_en` and
  `expected` (templates filled from the failing row), optionally `reporter_column`,
  `element_column` or `element_code`, `observed_column` (null: no observed value) and
  `suppressed_by` (rule ids whose finding on the same reporter, unit and element makes this
  finding redundant: the office hears about a figure once), and `message_notes` (a list of
  `{"column", "message_vi", "message_en"}`: a sentence added to the messages of a failing row
  whose boolean `column` is true, e.g. a history carried across a reform).

Reading the files needs no GX import; `Suite.to_gx()` builds the GX suite when validating.
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

SUITES_DIR = Path(__file__).resolve().parent / "suites"

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")

SQL_TYPES = {
    "varchar": "varchar",
    "double": "double precision",
    "integer": "integer",
    "boolean": "boolean",
    "date": "date",
}
"""Types a check-ready column may declare (and their portable SQL); they drive how a frame read
from either backend is normalised before GX sees it."""
COLUMN_TYPES = tuple(SQL_TYPES)

LOCATION_COLUMNS = (
    "cycle",
    "unit_code",
    "unit_level",
    "unit_name",
    "district_code",
    "province_code",
)
"""Columns every check-ready table has: they place a finding."""

# GX severity shown in Data Docs for ours.
GX_SEVERITY = {"error": "critical", "warning": "warning"}


class SuiteError(ValueError):
    """A suite file that cannot be used as written."""


@dataclass(frozen=True)
class Note:
    """A sentence added to a finding's messages when its row's boolean `column` is true."""

    column: str
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, with what a failing row becomes."""

    index: int
    rule_id: str
    severity: Severity
    expectation_type: str
    kwargs: Mapping[str, Any]
    message_vi: str
    message_en: str
    expected: str
    reporter_column: str
    element_column: str | None
    element_code: str | None
    indicator_column: str | None
    observed_column: str | None
    suppressed_by: tuple[str, ...]
    notes: tuple[Note, ...] = ()

    @property
    def checked_columns(self) -> tuple[str, ...]:
        """Columns the expectation itself reads (domain and row condition)."""
        names = [self.kwargs[k] for k in ("column", "column_A", "column_B") if k in self.kwargs]
        names += list(self.kwargs.get("column_list", []))
        names += list(_condition_columns(self.kwargs.get("row_condition")))
        return tuple(dict.fromkeys(names))

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Columns the message and expected-value templates read."""
        names: list[str] = []
        templates = [self.message_vi, self.message_en, self.expected]
        templates += [t for n in self.notes for t in (n.message_vi, n.message_en)]
        for template in templates:
            names += template_fields(template)
        return tuple(dict.fromkeys(names))

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column this rule needs from its table."""
        names = [*self.checked_columns, *self.placeholders, self.reporter_column]
        optional = (self.element_column, self.indicator_column, self.observed_column)
        names += [c for c in optional if c]
        names += [n.column for n in self.notes]
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Suite:
    """A suite file: a check-ready table and the rules run on it."""

    name: str
    path: Path
    table: str
    grain: str
    id_columns: tuple[str, ...]
    columns: Mapping[str, str]
    """Column name -> declared type (one of COLUMN_TYPES)."""
    column_docs: Mapping[str, str]
    rules: tuple[Rule, ...]
    document: Mapping[str, Any]
    """The file as read (a GX suite document)."""

    @property
    def schema(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def table_name(self) -> str:
        return self.table.split(".", 1)[1]

    @property
    def check_columns(self) -> tuple[str, ...]:
        """What GX needs: the key and the columns the expectations read. The rest (names,
        labels for the messages) is read for failing rows only."""
        names = [*self.id_columns, *(c for r in self.rules for c in r.checked_columns)]
        return tuple(dict.fromkeys(names))

    def rule_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.rule_id for r in self.rules))

    def to_gx(self) -> Any:
        """The GX `ExpectationSuite` (GX must already be imported; see `gx_runtime`)."""
        import great_expectations as gx

        document = copy.deepcopy(dict(self.document))
        for index, expectation in enumerate(document["expectations"]):
            expectation["severity"] = GX_SEVERITY[expectation["meta"]["severity"]]
            # Results are mapped back to rules by this, not by the order GX reports them in.
            expectation["meta"]["rule_index"] = index
        suite = gx.ExpectationSuite(
            name=document["name"],
            expectations=document["expectations"],
            meta=document.get("meta"),
            notes=document.get("notes"),
        )
        # GX logs and drops an expectation it cannot build (unknown type, bad kwargs) instead
        # of raising: a rule would silently never run.
        if len(suite.expectations) != len(self.rules):
            built = {e.expectation_type for e in suite.expectations}
            lost = [r.rule_id for r in self.rules if r.expectation_type not in built]
            raise SuiteError(
                f"{self.path.name}: GX could not build {len(self.rules) - len(suite.expectations)}"
                f" expectation(s) (rules {lost or '?'}); check their type and kwargs"
            )
        return suite


def template_fields(template: str) -> list[str]:
    """Names of the `{placeholders}` of a template, in order."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _condition_columns(condition: Any) -> Iterator[str]:
    """Column names a GX row condition (its JSON form) reads."""
    if isinstance(condition, dict):
        column = condition.get("column")
        if isinstance(column, dict) and isinstance(column.get("name"), str):
            yield column["name"]
        for child in condition.get("conditions", []):
            yield from _condition_columns(child)
    elif isinstance(condition, str):
        raise SuiteError(
            "row_condition must be a GX condition object, not a string (string conditions are "
            "deprecated in GX 1.9 and warn)"
        )


def _require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping or mapping[key] in (None, ""):
        raise SuiteError(f"{where}: missing '{key}'")
    return mapping[key]


def _parse_rule(
    index: int, raw: Mapping[str, Any], suite_columns: Mapping[str, str], where: str
) -> Rule:
    here = f"{where} expectation {index}"
    meta = _require(raw, "meta", here)
    rule_id = _require(meta, "rule_id", here)
    here = f"{where} rule {rule_id}"
    severity = _require(meta, "severity", here)
    if severity not in SEVERITIES:
        raise SuiteError(f"{here}: severity must be one of {SEVERITIES}, not {severity!r}")
    kwargs = _require(raw, "kwargs", here)
    if "element_code" in meta and "element_column" in meta:
        raise SuiteError(f"{here}: give element_code or element_column, not both")
    element_column = meta.get("element_column")
    if element_column is None and "element_code" not in meta and "element_code" in suite_columns:
        element_column = "element_code"
    indicator_column = "indicator_code" if "indicator_code" in suite_columns else None
    if "observed_column" in meta:
        observed = meta["observed_column"]
    else:
        observed = kwargs.get("column") or kwargs.get("column_B")
    return Rule(
        index=index,
        rule_id=rule_id,
        severity=severity,
        expectation_type=_require(raw, "type", here),
        kwargs=kwargs,
        message_vi=_require(meta, "message_vi", here),
        message_en=_require(meta, "message_en", here),
        expected=_require(meta, "expected", here),
        reporter_column=meta.get("reporter_column", "reporter_code"),
        element_column=element_column,
        element_code=meta.get("element_code"),
        indicator_column=indicator_column,
        observed_column=observed,
        suppressed_by=tuple(meta.get("suppressed_by", ())),
        notes=tuple(
            Note(
                column=_require(note, "column", f"{here} message_notes"),
                message_vi=_require(note, "message_vi", f"{here} message_notes"),
                message_en=_require(note, "message_en", f"{here} message_notes"),
            )
            for note in meta.get("message_notes", ())
        ),
    )


def parse_suite(path: Path) -> Suite:
    """Read and check one suite file (everything but GX's own view of the expectations)."""
    where = path.name
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{where}: not valid JSON ({exc})") from exc
    name = _require(document, "name", where)
    meta = _require(document, "meta", where)
    table = _require(meta, "table", where)
    if table.count(".") != 1:
        raise SuiteError(f"{where}: table must be 'schema.table', not {table!r}")
    declared = _require(meta, "columns", where)
    columns: dict[str, str] = {}
    docs: dict[str, str] = {}
    for column, text in declared.items():
        kind, _, doc = str(text).partition(":")
        if kind.strip() not in COLUMN_TYPES:
            raise SuiteError(
                f"{where}: column {column} has type {kind.strip()!r}, "
                f"expected one of {COLUMN_TYPES}"
            )
        columns[column] = kind.strip()
        docs[column] = doc.strip()
    rules = tuple(
        _parse_rule(i, raw, columns, where)
        for i, raw in enumerate(_require(document, "expectations", where))
    )
    id_columns = tuple(_require(meta, "id_columns", where))
    suite = Suite(
        name=name,
        path=path,
        table=table,
        grain=_require(meta, "grain", where),
        id_columns=id_columns,
        columns=columns,
        column_docs=docs,
        rules=rules,
        document=document,
    )
    _check_columns(suite)
    return suite


def _check_columns(suite: Suite) -> None:
    """Every column a rule reads must be declared: the declaration is the contract with dbt."""
    where = suite.path.name
    needed = dict.fromkeys((*LOCATION_COLUMNS, *suite.id_columns), "the suite")
    for rule in suite.rules:
        needed.update({c: f"rule {rule.rule_id}" for c in rule.columns if c not in needed})
    missing = {c: by for c, by in needed.items() if c not in suite.columns}
    if missing:
        listed = ", ".join(f"{c} (used by {by})" for c, by in missing.items())
        raise SuiteError(f"{where}: columns used but not declared in meta.columns: {listed}")


@cache
def _load_all(directory: Path) -> tuple[Suite, ...]:
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise SuiteError(f"no suite files in {directory}")
    suites = tuple(parse_suite(p) for p in paths)
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise SuiteError(f"suite names repeat in {directory}: {names}")
    known = {r.rule_id for s in suites for r in s.rules}
    for suite in suites:
        for rule in suite.rules:
            unknown = [other for other in rule.suppressed_by if other not in known]
            if unknown:
                raise SuiteError(
                    f"{suite.path.name}: rule {rule.rule_id} is suppressed_by "
                    f"unknown rule(s) {unknown}"
                )
    rule_catalogue(list(suites))
    return suites


def load_suites(directory: Path | None = None) -> list[Suite]:
    """The suites in `expectations/suites/` (or `directory`), in file-name order."""
    return list(_load_all((directory or SUITES_DIR).resolve()))


RULE_FAMILIES = ("completeness", "timeliness", "consistency", "range", "cross_source", "over_time")


def rule_catalogue(suites: list[Suite] | None = None) -> dict[str, Severity]:
    """rule_id -> severity over all suites (a rule keeps one severity everywhere), ordered by
    family (completeness first) and then as the suites list them."""
    catalogue: dict[str, Severity] = {}
    for suite in suites if suites is not None else load_suites():
        for rule in suite.rules:
            if catalogue.setdefault(rule.rule_id, rule.severity) != rule.severity:
                raise SuiteError(f"rule {rule.rule_id} has two severities")

    def family(rule_id: str) -> int:
        prefix = rule_id.split(".", 1)[0]
        return RULE_FAMILIES.index(prefix) if prefix in RULE_FAMILIES else len(RULE_FAMILIES)

    return {r: catalogue[r] for r in sorted(catalogue, key=family)}
