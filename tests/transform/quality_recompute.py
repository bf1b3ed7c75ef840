"""The check-ready tables' measures recomputed in Python from the raw layer and the marts, the
way expectations/README.md defines them, to compare with what dbt built."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from core.settings import Settings
from tests.expectations.qa_tables import history_stats  # the README's definitions, once
from tests.transform.conftest import read

HISTORY_COLUMNS = ["history_cycles", "history_median", "modified_z", "mean3", "ratio_to_mean3"]


def loaded_figures(settings: Settings) -> pd.DataFrame:
    """Every figure of a `loaded` return, straight from the raw layer."""
    return read(
        settings,
        """
        select v.cycle, v.reporter_code, v.unit_code, v.element_code,
               cast(v.value as double precision) as value
        from raw.return_values v
        join raw.received_files f on v.file_sha256 = f.file_sha256 and v.cycle = f.cycle
        where f.status = 'loaded'""",
    )


def expected_history(settings: Settings) -> pd.DataFrame:
    """The over-time measures of every expected commune and element in every cycle: earlier
    cycles of the same kind, same hierarchy, by code, with a value (uncorrected values
    included)."""
    values = read(
        settings,
        """
        select e.cycle, e.hierarchy, e.unit_code, e.element_code,
               cast(e.value as double precision) as value
        from marts.fct_element_values e
        where e.unit_level = 'commune'""",
    )
    values["year"] = values["cycle"].str[:4].astype(int)
    values["kind"] = values["cycle"].str[5:]
    series: dict[tuple[str, str, str, str], list[tuple[int, str, float | None]]] = defaultdict(list)
    for row in values.itertuples(index=False):
        value = None if pd.isna(row.value) else float(row.value)
        series[(row.hierarchy, row.kind, row.unit_code, row.element_code)].append(
            (row.year, row.cycle, value)
        )
    rows = []
    for (_, _, unit, element), points in series.items():
        points.sort()
        for index, (_, cycle, value) in enumerate(points):
            earlier = [v for _, _, v in points[:index] if v is not None]
            rows.append(
                {
                    "cycle": cycle,
                    "unit_code": unit,
                    "element_code": element,
                    "value": value,
                    **history_stats(value, earlier),
                }
            )
    return pd.DataFrame(rows)


def assert_close(
    actual: pd.DataFrame, expected: pd.DataFrame, key: list[str], columns: list[str]
) -> None:
    """Same keys, and every column equal within 1e-9 (nulls equal nulls)."""
    merged = actual.merge(expected, on=key, how="outer", suffixes=("", "_expected"), indicator=True)
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, unmatched[[*key, "_merge"]].head(10)
    for column in columns:
        left = pd.to_numeric(merged[column]).astype(float)
        right = pd.to_numeric(merged[f"{column}_expected"]).astype(float)
        same = np.isclose(left, right, rtol=1e-9, atol=1e-9, equal_nan=True)
        assert same.all(), merged.loc[~same, [*key, column, f"{column}_expected"]].head(10)
