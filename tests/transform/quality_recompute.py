"""The check-ready tables' measures recomputed in Python from the raw layer and the marts, the
way expectations/README.md defines them, to compare with what dbt built."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pandas as pd

from core.hierarchies import hierarchy_versions, read_seed
from core.settings import Settings
from tests.expectations.qa_tables import history_stats  # the README's definitions, once
from tests.transform.conftest import read

HISTORY_COLUMNS = [
    "history_cycles",
    "history_is_carried",
    "history_median",
    "modified_z",
    "mean3",
    "ratio_to_mean3",
]


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
    included); before a commune's hierarchy began, its predecessors' figures (seed
    commune_successions, main successors) summed, where every predecessor reported."""
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
    Point = tuple[int, str, float | None, bool]  # year, cycle, value, carried
    series: dict[tuple[str, str, str, str], list[Point]] = defaultdict(list)
    for row in values.itertuples(index=False):
        value = None if pd.isna(row.value) else float(row.value)
        series[(row.hierarchy, row.kind, row.unit_code, row.element_code)].append(
            (row.year, row.cycle, value, False)
        )
    for key, point in carried_points(values).items():
        series[key].extend(point)
    rows = []
    for (_, _, unit, element), points in series.items():
        points.sort()
        for index, (_, cycle, value, carried) in enumerate(points):
            if carried:
                continue  # a history value only: the cycle has no row of its own here
            earlier = [(v, c) for _, _, v, c in points[:index] if v is not None]
            rows.append(
                {
                    "cycle": cycle,
                    "unit_code": unit,
                    "element_code": element,
                    "value": value,
                    **history_stats(value, [v for v, _ in earlier]),
                    "history_is_carried": any(c for _, c in earlier),
                }
            )
    return pd.DataFrame(rows)


def carried_points(
    values: pd.DataFrame,
) -> dict[tuple[str, str, str, str], list[tuple[int, str, float | None, bool]]]:
    """Each new commune's carried values, by (hierarchy, kind, commune, element): the sum of
    its predecessors' figures in each cycle where every one of them has one."""
    previous = {after.id: before.id for before, after in itertools.pairwise(hierarchy_versions())}
    successor: dict[tuple[str, str], tuple[str, str]] = {}
    predecessors: dict[tuple[str, str], int] = defaultdict(int)
    for r in read_seed("commune_successions.csv"):
        if r["is_main_successor"] == "true" and r["hierarchy"] in previous:
            new = (r["hierarchy"], r["new_commune_code"])
            successor[(previous[r["hierarchy"]], r["old_commune_code"])] = new
            predecessors[new] += 1
    sums: dict[tuple[str, str, str, str, int, str], list[float]] = defaultdict(list)
    for row in values[values["value"].notna()].itertuples(index=False):
        new = successor.get((row.hierarchy, row.unit_code))
        if new:
            sums[(new[0], row.kind, new[1], row.element_code, row.year, row.cycle)].append(
                float(row.value)
            )
    points: dict[tuple[str, str, str, str], list[tuple[int, str, float | None, bool]]] = (
        defaultdict(list)
    )
    for (hierarchy, kind, unit, element, year, cycle), found in sums.items():
        if len(found) == predecessors[(hierarchy, unit)]:
            points[(hierarchy, kind, unit, element)].append((year, cycle, sum(found), True))
    return points


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
