"""Reading figures and dates the way Vietnamese offices write them.

`1.234` and `1 234` are one thousand two hundred and thirty-four; `,` is the decimal mark, so
`1,5` (and `1,234`) are decimals, which a count cannot be. A blank is "not reported"; `0` is zero.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime

from core.reference import normalise_code
from ingest.limits import MAX_VALUE

_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")
_DIGITS = re.compile(r"^\d+$")
_DOT_GROUPS = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+$")
_SPACE_GROUPS = re.compile(r"^[1-9]\d{0,2}(?: \d{3})+$")
_DECIMAL = re.compile(r"^\d*[.,]\d+$|^\d+[.,]$")
_EXCEL_ERROR = re.compile(
    r"^#(?:DIV/0!|N/A|NAME\?|NULL!|NUM!|REF!|VALUE!|SPILL!|CALC!|GETTING_DATA)$"
)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_VN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class InvalidValue(Exception):
    """A cell that holds something other than a whole non-negative number."""

    code: str  # a row-level reason code of ingest.problems
    shown: str


def display(raw: object) -> str:
    """A cell's content as the officer typed it, for messages."""
    return normalise_code(raw)


def parse_count(raw: object) -> int | None:
    """A whole non-negative number, None for a blank cell; raise InvalidValue otherwise."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise InvalidValue("not_a_number", str(raw).upper())
    if isinstance(raw, int):
        if raw < 0:
            raise InvalidValue("negative_value", str(raw))
        return _bounded(raw, str(raw))
    if isinstance(raw, float):
        if math.isnan(raw):  # an empty numeric cell
            return None
        if abs(raw) > MAX_VALUE:  # before int(): 1e300 has 301 digits, inf none
            raise InvalidValue("negative_value" if raw < 0 else "value_too_large", f"{raw:g}")
        if raw < 0:
            raise InvalidValue("negative_value", display(raw))
        if not raw.is_integer():
            raise InvalidValue("decimal_value", display(raw))
        return int(raw)
    if isinstance(raw, date | datetime):
        raise InvalidValue("not_a_number", raw.isoformat())
    text = _SPACES.sub(" ", str(raw)).strip()
    if not text:
        return None
    if text.startswith("=") or _EXCEL_ERROR.match(text):
        raise InvalidValue("formula_error", text)
    negative = text[0] in "-−"
    body = text[1:].strip() if negative or text[0] == "+" else text
    if _DIGITS.match(body) or _DOT_GROUPS.match(body) or _SPACE_GROUPS.match(body):
        if negative and body.strip("0. "):
            raise InvalidValue("negative_value", text)
        # 30 digits are plenty to exceed the limit; int() refuses 4,300 and more
        return _bounded(int(re.sub(r"[. ]", "", body)[:30]), text)
    if _DECIMAL.match(body):
        raise InvalidValue("negative_value" if negative else "decimal_value", text)
    raise InvalidValue("not_a_number", text)


def _bounded(value: int, shown: str) -> int:
    """Every figure fits the warehouse's BIGINT, and so does any sum of them (ingest.limits)."""
    if value > MAX_VALUE:
        raise InvalidValue("value_too_large", shown if len(shown) <= 40 else shown[:37] + "...")
    return value


def parse_date(raw: object) -> date | None:
    """`2024-06-12`, `12/06/2024` or a date cell; None when blank; ValueError otherwise."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    if match := _ISO_DATE.match(text):
        year, month, day = (int(g) for g in match.groups())
        return date(year, month, day)
    if match := _VN_DATE.match(text):
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    raise ValueError(text)
