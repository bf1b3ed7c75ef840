"""What a value read from either warehouse (or pandas) means: one reading of SQL NULL, text,
numbers and dates for every module that formats warehouse rows."""

from __future__ import annotations

import math
import sys
from datetime import date, datetime
from typing import Any


def is_missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA: what either backend and pandas use for SQL NULL."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    # pandas' own markers exist only once pandas is imported (the transform step never does)
    pd = sys.modules.get("pandas")
    return pd is not None and (value is pd.NA or value is pd.NaT)


def text(value: Any) -> str | None:
    """The value as stripped text; None when missing or blank."""
    if is_missing(value):
        return None
    return str(value).strip() or None


def number(value: Any) -> float | None:
    return None if is_missing(value) else float(value)


def day(value: Any) -> date | None:
    """A date from a date, a timestamp or ISO text; None when missing or unreadable."""
    if is_missing(value):
        return None
    if isinstance(value, datetime):  # pandas' Timestamp is a datetime
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None
