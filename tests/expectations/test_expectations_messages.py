"""Message templates: figures and dates written as each language reads them."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from expectations.messages import fill, format_value


@pytest.mark.parametrize(
    ("value", "spec", "vi", "en"),
    [
        (1234, "", "1.234", "1,234"),
        (1234.0, "", "1.234", "1,234"),
        (np.float64(9.5), "", "9,5", "9.5"),
        (2.02456, ".1f", "2,0", "2.0"),
        (1.4118, ".0%", "141%", "141%"),
        (340.0, ".1f", "340,0", "340.0"),
        (date(2024, 6, 15), "", "15/06/2024", "2024-06-15"),
        (pd.Timestamp("2024-12-10"), "", "10/12/2024", "2024-12-10"),
        (None, "", "–", "–"),
        (float("nan"), ".1f", "–", "–"),
        (pd.NA, "", "–", "–"),
        ("Xã Bình Lương", "", "Xã Bình Lương", "Xã Bình Lương"),
    ],
)
def test_format_value(value: object, spec: str, vi: str, en: str) -> None:
    assert format_value(value, spec, "vi") == vi
    assert format_value(value, spec, "en") == en


def test_fill_reads_the_row() -> None:
    row = {"unit_name": "Xã Bình Lương", "value": 12500.0, "modified_z": 4.26}
    template = "{unit_name}: {value} (z = {modified_z:.1f})"
    assert fill(template, row, "vi") == "Xã Bình Lương: 12.500 (z = 4,3)"
    assert fill(template, row, "en") == "Xã Bình Lương: 12,500 (z = 4.3)"
    with pytest.raises(KeyError):
        fill("{missing}", row, "en")


@pytest.mark.parametrize(
    "template",
    [
        "{unit_name}: {value} (z = {modified_z:.1f}) {{literal}}",
        "{value:.0%} of {unit_name}",
        "no field at all",
        "{unit_name!r} is repr'd",  # a conversion: the general formatter's path
        "{value:{spec}}",  # a nested spec: the general formatter's path
    ],
)
def test_fill_gives_what_the_general_formatter_gives(template: str) -> None:
    """Templates are parsed once and filled from the parts; `string.Formatter` (the reference)
    fills them the same way."""
    import string

    from expectations.messages import _RowFormatter

    row = {"unit_name": "Xã Bình Lương", "value": 0.125, "modified_z": 4.26, "spec": ".1f"}
    for language in ("vi", "en"):
        expected = string.Formatter.vformat(_RowFormatter(language), template, (), row)
        assert fill(template, row, language) == expected  # type: ignore[arg-type]
    with pytest.raises(IndexError):  # positional fields have no value, as before
        fill("{0}", row, "en")
