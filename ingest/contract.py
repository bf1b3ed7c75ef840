"""The input contract: which returns load, which rows are rejected, and why.

`check_return` turns a ParsedReturn into a CheckedReturn: the figures that may reach the
warehouse and every problem, located by file, sheet and row. A rejected row never stops the
rest of the file; a file-level problem rejects the file as a whole.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal, NamedTuple

from core.cycles import Cycle
from core.reference import Reference, Reporter, normalise_code
from ingest.limits import MAX_VALUE
from ingest.problems import FileRejected, Problem, problem
from ingest.readers import ParsedReturn, RawRow
from ingest.values import InvalidValue, display, parse_count, parse_date

ReturnStatus = Literal["valid", "rejected"]
SHOWN_ROWS = 5
"""Rows named in a conflicting figure's message; the count says how many there are."""


class Figure(NamedTuple):
    """One accepted figure: a count (or 0/1 flag) for a commune and a data element (a tuple,
    as `RawRow`: cheaper to build than a frozen dataclass)."""

    unit_code: str
    element_code: str
    value: int
    sheet: str | None
    row: int
    note: str | None


@dataclass
class CheckedReturn:
    file_name: str
    file_format: str
    cycle: str | None = None
    reporter_code: str | None = None
    reporter_name: str | None = None
    submitted_on: date | None = None
    form_version: str | None = None
    file_problem: Problem | None = None
    figures: list[Figure] = field(default_factory=list)
    rejected_rows: list[tuple[RawRow, Problem]] = field(default_factory=list)
    rows_total: int = 0
    rows_blank: int = 0

    @property
    def status(self) -> ReturnStatus:
        return "rejected" if self.file_problem else "valid"

    @property
    def problems(self) -> list[Problem]:
        found = [self.file_problem] if self.file_problem else []
        return found + [p for _, p in self.rejected_rows]


def check_return(
    parsed: ParsedReturn,
    reference: Reference,
    folder_cycle: Cycle | None = None,
    received: date | None = None,
) -> CheckedReturn:
    """Apply the contract to a parsed return. `folder_cycle` is the inbox folder's cycle,
    `received` the day the file arrived (UTC), which `submitted_on` cannot be after."""
    checked = CheckedReturn(
        parsed.file_name,
        parsed.file_format,
        reporter_name=parsed.reporter_name,
        form_version=parsed.form_version,
    )
    try:
        cycle = _check_cycle(parsed, folder_cycle)
        checked.cycle = cycle.id
        reporter = _check_reporter(parsed, reference, cycle)
        checked.reporter_code = reporter.code
        checked.reporter_name = parsed.reporter_name or reporter.name_vi
        checked.submitted_on = _check_submitted_on(parsed, cycle, received)
        _check_rows(parsed, reference, cycle, reporter, checked)
    except FileRejected as rejected:
        checked.file_problem = rejected.problem
        checked.figures = []
    return checked


def _check_cycle(parsed: ParsedReturn, folder_cycle: Cycle | None) -> Cycle:
    name = parsed.file_name
    if len(parsed.cycles_seen) > 1:
        raise FileRejected(
            problem(name, "mixed_cycles", values=", ".join(sorted(parsed.cycles_seen)))
        )
    if parsed.cycle in (None, ""):
        raise FileRejected(problem(name, "missing_field", field="cycle"))
    try:
        cycle = Cycle.parse(str(parsed.cycle))
    except ValueError as exc:
        raise FileRejected(problem(name, "invalid_cycle", value=parsed.cycle)) from exc
    if folder_cycle is not None and cycle != folder_cycle:
        raise FileRejected(problem(name, "cycle_mismatch", cycle=cycle.id, folder=folder_cycle.id))
    return cycle


def _check_reporter(parsed: ParsedReturn, reference: Reference, cycle: Cycle) -> Reporter:
    name = parsed.file_name
    codes = {normalise_code(r) for r in parsed.reporters_seen}
    if len(codes) > 1:
        resolved = {reference.reporter(c, cycle.hierarchy) for c in codes}
        if len({r.code if r else c for r, c in zip(resolved, codes, strict=True)}) > 1:
            raise FileRejected(problem(name, "mixed_reporters", values=", ".join(sorted(codes))))
    code = normalise_code(parsed.reporter)
    reporter = reference.reporter(code, cycle.hierarchy)
    if reporter is None:
        raise FileRejected(problem(name, "unknown_reporter", code=code, cycle=cycle.id))
    return reporter


def _check_submitted_on(parsed: ParsedReturn, cycle: Cycle, received: date | None) -> date | None:
    """The latest date given. A date before the cycle's year or after the day received (a day
    of slack: Hanoi is 7 hours ahead of the UTC arrival time) cannot be right; taken, 2099 would
    beat every later correction and 1900 be on time, so the file is rejected like an
    unreadable date."""
    dates: list[date] = []
    sheet = "ThongTin" if parsed.file_format == "xlsx" else None
    earliest = date(cycle.year, 1, 1)
    latest = received + timedelta(days=1) if received else None
    for raw, row in parsed.submitted_on.items():
        try:
            day = parse_date(raw)
        except ValueError as exc:
            raise FileRejected(
                problem(parsed.file_name, "invalid_date", sheet=sheet, row=row, value=display(raw))
            ) from exc
        if day and (day < earliest or (latest is not None and day > latest)):
            raise FileRejected(
                problem(
                    parsed.file_name,
                    "implausible_date",
                    sheet=sheet,
                    row=row,
                    value=day.isoformat(),
                    earliest=earliest.isoformat(),
                    received=received.isoformat() if received else "?",
                )
            )
        if day:
            dates.append(day)
    return max(dates) if dates else None


def _check_rows(
    parsed: ParsedReturn,
    reference: Reference,
    cycle: Cycle,
    reporter: Reporter,
    checked: CheckedReturn,
) -> None:
    name = parsed.file_name
    role_elements = set(reference.elements_by_role[reporter.role])
    accepted: dict[tuple[str, str], list[tuple[RawRow, int]]] = defaultdict(list)

    def reject(raw: RawRow, code: str, **details: object) -> None:
        checked.rejected_rows.append(
            (raw, problem(name, code, sheet=raw.sheet, row=raw.row, **details))
        )

    for raw in parsed.rows:
        checked.rows_total += 1
        element = normalise_code(raw.element)
        if not element:
            reject(raw, "missing_element")
            continue
        known = reference.elements.get(element) or reference.elements.get(element.lower())
        if known is None:
            reject(raw, "unknown_element", element=element)
            continue
        if known.code not in role_elements:
            reject(
                raw,
                "element_not_in_role",
                element=known.code,
                owner=known.reported_by,
                reporter=f"{reporter.code} ({reporter.role})",
            )
            continue
        unit = normalise_code(raw.unit)
        if not unit:
            if reporter.kind == "agency":
                reject(raw, "unit_required")
                continue
            unit = reporter.code
        elif unit.isdigit():
            unit = unit.zfill(5)
        if unit not in reporter.communes:
            commune = reference.commune(cycle.hierarchy, unit)
            if commune is None:
                reject(raw, "unknown_unit", unit=unit, cycle=cycle.id)
            else:
                reject(
                    raw,
                    "unit_outside_jurisdiction",
                    unit=unit,
                    unit_name=commune.name_vi,
                    reporter=reporter.code,
                )
            continue
        if raw.formula_error:
            reject(raw, "formula_error", value=raw.formula_error)
            continue
        try:
            value = parse_count(raw.value)
        except InvalidValue as invalid:
            reject(raw, invalid.code, value=invalid.shown, limit=f"{MAX_VALUE:,}")
            continue
        if value is None:
            checked.rows_blank += 1
            continue
        if known.kind == "flag" and value not in (0, 1):
            reject(raw, "invalid_flag", element=known.code, value=value)
            continue
        accepted[(unit, known.code)].append((raw, value))

    for (unit, element), occurrences in accepted.items():
        first_raw, first_value = occurrences[0]
        if len(occurrences) > 1 and len({v for _, v in occurrences}) > 1:
            # one message for the group, naming a few rows: N rows each listing all N others
            # made the check quadratic (10,000 conflicting rows took 8 GB)
            rows = ", ".join(str(r.row) for r, _ in occurrences[:SHOWN_ROWS])
            if len(occurrences) > SHOWN_ROWS:
                rows += ", …"
            for raw, _ in occurrences:
                reject(
                    raw,
                    "conflicting_figure",
                    unit=unit,
                    element=element,
                    rows=rows,
                    count=len(occurrences),
                )
            continue
        for raw, _ in occurrences[1:]:
            reject(raw, "duplicate_figure", unit=unit, element=element, first_row=first_raw.row)
        checked.figures.append(
            Figure(unit, element, first_value, first_raw.sheet, first_raw.row, first_raw.note)
        )
    checked.rejected_rows.sort(key=lambda item: item[0].row)

    if not checked.figures:
        if checked.rejected_rows:
            raise FileRejected(
                problem(name, "no_valid_figures", rejected=len(checked.rejected_rows))
            )
        raise FileRejected(problem(name, "no_figures"))
