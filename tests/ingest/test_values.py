from __future__ import annotations

from datetime import date, datetime

import pytest

from ingest.values import InvalidValue, parse_count, parse_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        ("0", 0),
        ("1.234", 1234),
        ("1 234", 1234),
        ("1\u00a0234", 1234),
        ("1.234.567", 1234567),
        (" 7 ", 7),
        (12.0, 12),
        (5, 5),
        ("+5", 5),
        (None, None),
        ("", None),
        ("  ", None),
        (float("nan"), None),
    ],
)
def test_whole_numbers_are_read_the_vietnamese_way(raw: object, expected: int | None) -> None:
    assert parse_count(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1,5", "decimal_value"),
        ("1,234", "decimal_value"),
        ("1.23", "decimal_value"),
        ("0.333", "decimal_value"),
        ("01.234", "decimal_value"),
        (12.5, "decimal_value"),
        ("-3", "negative_value"),
        (-1.0, "negative_value"),
        ("abc", "not_a_number"),
        ("không rõ", "not_a_number"),
        (True, "not_a_number"),
        (date(2024, 1, 1), "not_a_number"),
        ("=A1+B1", "formula_error"),
        ("#DIV/0!", "formula_error"),
        ("12a", "not_a_number"),
    ],
)
def test_anything_but_a_whole_non_negative_number_is_invalid(raw: object, reason: str) -> None:
    with pytest.raises(InvalidValue) as invalid:
        parse_count(raw)
    assert invalid.value.code == reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-06-12", date(2024, 6, 12)),
        ("12/06/2024", date(2024, 6, 12)),
        ("2/6/2024", date(2024, 6, 2)),
        (datetime(2024, 6, 12, 9, 30), date(2024, 6, 12)),
        (date(2024, 6, 12), date(2024, 6, 12)),
        ("", None),
        (None, None),
    ],
)
def test_dates_in_both_accepted_forms(raw: object, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2024-13-01", "31/02/2024", "June 12", "12.06.2024"])
def test_invalid_dates_raise(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_date(raw)
