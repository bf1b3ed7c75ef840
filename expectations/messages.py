"""Fill a rule's message templates from the failing row, numbers and dates written the way each
language reads them (Vietnamese: 1.234 and 9,5 and 15/06/2024; English: 1,234 and 9.5 and
2024-06-15)."""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from core.text import format_vi_number
from core.values import is_missing

Language = Literal["vi", "en"]
MISSING = "–"

_FIXED = re.compile(r"^\.(\d+)f$")
_PERCENT = re.compile(r"^\.(\d+)%$")


def _number(value: float, decimals: int, language: Language) -> str:
    if language == "vi":
        return format_vi_number(value, decimals)
    return f"{value:,.{decimals}f}"


def format_value(value: Any, spec: str, language: Language) -> str:
    """One placeholder's text. Specs understood: '' (whole numbers grouped, else 1 decimal),
    '.Nf' (N decimals) and '.N%' (a ratio as a percentage)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y") if language == "vi" else value.isoformat()
    if isinstance(value, int | float | Decimal) or hasattr(value, "item"):
        number = float(value)
        if math.isinf(number):
            return "∞"
        if match := _PERCENT.match(spec):
            return _number(number * 100, int(match[1]), language) + "%"
        if match := _FIXED.match(spec):
            return _number(number, int(match[1]), language)
        if spec:
            return format(number, spec)
        return _number(number, 0 if number.is_integer() else 1, language)
    return format(str(value), spec)


class _RowFormatter(string.Formatter):
    def __init__(self, language: Language) -> None:
        super().__init__()
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        return format_value(value, format_spec, self.language)


def fill(template: str, row: Mapping[str, Any], language: Language) -> str:
    """The template with every `{column}` replaced by the row's value (KeyError if the row has
    no such column: suites declare their columns, so this is a bug, not bad data)."""
    parts = _plain_fields(template)
    if parts is None:
        return _RowFormatter(language).vformat(template, (), row)
    return "".join(
        literal if name is None else literal + format_value(row[name], spec, language)
        for literal, name, spec in parts
    )


@functools.cache
def _plain_fields(template: str) -> tuple[tuple[str, str | None, str], ...] | None:
    """A template parsed once, as (literal text, column, spec) when every field is a plain
    `{column}` or `{column:spec}` (what `string.Formatter` then does, without re-parsing the
    template for each of thousands of findings); None for anything fancier."""
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        if name is not None and (conversion or not name.isidentifier() or "{" in (spec or "")):
            return None
        parts.append((literal, name, spec or ""))
    return tuple(parts)
