"""Indicator values recomputed with pandas from the raw layer, independently of dbt's SQL, by
the domain README's rules: the current figures are those of loaded files; districts and
provinces sum numerators and denominators separately over the communes that reported both
parts (the flag, for `@communes` indicators; the count, for CT13), then divide."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from core.cycles import Cycle
from core.hierarchies import hierarchy_versions, read_seed
from core.reference import Reference
from core.settings import Settings
from tests.transform.conftest import read

KEY = ["cycle", "unit_level", "unit_code", "indicator_code"]


def current_figures(settings: Settings) -> pd.DataFrame:
    return read(
        settings,
        """
        select v.cycle, v.unit_code, v.element_code, v.value
        from raw.return_values v
        join raw.received_files f on f.file_sha256 = v.file_sha256 and f.cycle = v.cycle
        where f.status = 'loaded'
    """,
    )


def commune_parts(
    figures: pd.DataFrame, expected: dict[str, list[str]], ref: Reference
) -> pd.DataFrame:
    """One row per cycle, expected commune and indicator: numerator, denominator, included."""
    communes = []
    for cycle_id, reporters in expected.items():
        cycle = Cycle.parse(cycle_id)
        for code in reporters:
            unit = ref.commune(cycle.hierarchy, code)
            if unit is None:  # an agency
                continue
            communes.append(
                (
                    cycle_id,
                    cycle.hierarchy,
                    code,
                    unit.district_code,
                    unit.province_code,
                    unit.area_type,
                )
            )
    frame = pd.DataFrame(
        communes,
        columns=["cycle", "hierarchy", "unit_code", "district_code", "province_code", "area_type"],
    )
    wide = figures.pivot_table(
        index=["cycle", "unit_code"], columns="element_code", values="value", aggfunc="first"
    )
    frame = frame.join(wide, on=["cycle", "unit_code"])
    parts = []
    for indicator in ref.indicators.values():
        numerator = frame.get(indicator.numerator, pd.Series(np.nan, index=frame.index))
        if indicator.denominator == "@communes":
            included = numerator.notna()
            denominator = pd.Series(1.0, index=frame.index)
        elif indicator.denominator is None:
            included = numerator.notna()
            denominator = pd.Series(np.nan, index=frame.index)
        else:
            denominator = frame.get(indicator.denominator, pd.Series(np.nan, index=frame.index))
            included = numerator.notna() & denominator.notna()
        part = frame[
            ["cycle", "hierarchy", "unit_code", "district_code", "province_code", "area_type"]
        ].copy()
        part["indicator_code"] = indicator.code
        part["included"] = included.to_numpy()
        part["numerator"] = numerator.where(included).astype(float).to_numpy()
        part["denominator"] = denominator.where(included).astype(float).to_numpy()
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def value_of(numerator: float, denominator: float, indicator_code: str, ref: Reference) -> float:
    indicator = ref.indicators[indicator_code]
    if indicator.denominator is None:
        return numerator * indicator.factor if not math.isnan(numerator) else math.nan
    if math.isnan(denominator) or denominator == 0:
        return math.nan
    return numerator / denominator * indicator.factor


LEVELS = (("district", "district_code"), ("province", "province_code"), ("country", None))
"""Each level rolled up to, and the commune column naming its unit (the country: every
commune, under the code `VN`)."""


def _by_level(rows: pd.DataFrame, column: str | None) -> tuple[pd.DataFrame, str]:
    """The rows of a level's units, with the column holding the unit's code."""
    if column is None:
        return rows.assign(country_code="VN"), "country_code"
    return rows[rows[column].notna()], column


def roll_up(parts: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """District, province and country rows: Σ over included communes, then divide."""
    frames = []
    for level, column in LEVELS:
        rows, code = _by_level(parts, column)
        grouped = rows.groupby(["cycle", "hierarchy", code, "indicator_code"])
        frame = (
            pd.DataFrame(
                {
                    "numerator": grouped["numerator"].sum(min_count=1),
                    "denominator": grouped["denominator"].sum(min_count=1),
                    "communes_included": grouped["included"].sum(),
                    "communes_in_force": grouped.size(),
                }
            )
            .reset_index()
            .rename(columns={code: "unit_code"})
        )
        frame["unit_level"] = level
        frames.append(frame)
    result = pd.concat(frames, ignore_index=True)
    result["value"] = [
        value_of(n, d, i, ref)
        for n, d, i in zip(
            result["numerator"], result["denominator"], result["indicator_code"], strict=True
        )
    ]
    return result


def carried_parts(parts: pd.DataFrame) -> pd.DataFrame:
    """Each old commune's parts under its main successor (seed commune_successions) and that
    commune's province, in the next hierarchy version, with how many old communes the new
    commune has in all (in scope or not)."""
    versions = hierarchy_versions()
    previous = {after.id: before.id for before, after in itertools.pairwise(versions)}
    successions = pd.DataFrame(
        [
            {
                "hierarchy": previous[r["hierarchy"]],
                "next_hierarchy": r["hierarchy"],
                "unit_code": r["old_commune_code"],
                "new_commune": r["new_commune_code"],
                "new_province": r["new_province_code"],
            }
            for r in read_seed("commune_successions.csv")
            if r["is_main_successor"] == "true" and r["hierarchy"] in previous
        ]
    )
    successions["predecessors"] = successions.groupby(["next_hierarchy", "new_commune"])[
        "unit_code"
    ].transform("size")
    carried = parts.merge(successions, on=["hierarchy", "unit_code"])
    return carried.drop(
        columns=["hierarchy", "unit_code", "district_code", "province_code"]
    ).rename(
        columns={
            "next_hierarchy": "hierarchy",
            "new_commune": "unit_code",
            "new_province": "province_code",
        }
    )


def carried_values(carried: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Communes and provinces of the next version: Σ over the old communes included, then
    divide; a commune's value is complete when every old commune carried to it reported."""
    frames = []
    for level, column in (("commune", "unit_code"), ("province", "province_code")):
        grouped = carried.groupby(["cycle", "hierarchy", column, "indicator_code"])
        frame = (
            pd.DataFrame(
                {
                    "numerator": grouped["numerator"].sum(min_count=1),
                    "denominator": grouped["denominator"].sum(min_count=1),
                    "included": grouped["included"].sum(),
                    "predecessors": grouped["predecessors"].max(),
                }
            )
            .reset_index()
            .rename(columns={column: "unit_code"})
        )
        frame["unit_level"] = level
        frame["complete"] = frame["included"] == frame["predecessors"]
        frames.append(frame)
    result = pd.concat(frames, ignore_index=True)
    result["value"] = [
        value_of(n, d, i, ref)
        for n, d, i in zip(
            result["numerator"], result["denominator"], result["indicator_code"], strict=True
        )
    ]
    return result


def with_history(values: pd.DataFrame, parts: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """Add the previous comparable cycle's value (same hierarchy: across the reform, the
    previous cycle carried onto this hierarchy's units; the country is the same unit on both
    sides) and the comparison over the communes included in both cycles (across the reform:
    included now, and every predecessor included then)."""
    carried = carried_values(carried_parts(parts), ref)
    values = values.copy()
    values["previous_cycle"] = [Cycle.parse(c).previous_comparable.id for c in values["cycle"]]
    values["same_unit"] = values["hierarchy"].where(values["unit_level"] != "country", "")
    carried_previous = carried.assign(same_unit=carried["hierarchy"])
    previous = pd.concat(
        [
            values[["cycle", "same_unit", "unit_level", "unit_code", "indicator_code", "value"]],
            carried_previous[
                ["cycle", "same_unit", "unit_level", "unit_code", "indicator_code", "value"]
            ],
        ],
        ignore_index=True,
    ).rename(columns={"cycle": "previous_cycle", "value": "previous_value"})
    values = values.merge(
        previous,
        how="left",
        on=["previous_cycle", "same_unit", "unit_level", "unit_code", "indicator_code"],
    ).drop(columns="same_unit")

    included = parts[parts["included"]].copy()
    included["previous_cycle"] = [Cycle.parse(c).previous_comparable.id for c in included["cycle"]]
    complete = carried[(carried["unit_level"] == "commune") & carried["complete"]]
    columns = ["cycle", "hierarchy", "unit_code", "indicator_code", "numerator", "denominator"]
    before = pd.concat([included[columns], complete[columns]], ignore_index=True).rename(
        columns={
            "cycle": "previous_cycle",
            "numerator": "previous_numerator",
            "denominator": "previous_denominator",
        }
    )
    both = included.merge(before, on=["previous_cycle", "hierarchy", "unit_code", "indicator_code"])
    frames = []
    for level, column in LEVELS:
        rows, code = _by_level(both, column)
        grouped = rows.groupby(["cycle", code, "indicator_code"])
        frame = (
            pd.DataFrame(
                {
                    "n": grouped["numerator"].sum(min_count=1),
                    "d": grouped["denominator"].sum(min_count=1),
                    "pn": grouped["previous_numerator"].sum(min_count=1),
                    "pd": grouped["previous_denominator"].sum(min_count=1),
                    "communes_compared": grouped.size(),
                }
            )
            .reset_index()
            .rename(columns={code: "unit_code"})
        )
        frame["unit_level"] = level
        frames.append(frame)
    compared = pd.concat(frames, ignore_index=True)
    compared["compared_value"] = [
        value_of(n, d, i, ref)
        for n, d, i in zip(compared["n"], compared["d"], compared["indicator_code"], strict=True)
    ]
    compared["compared_previous_value"] = [
        value_of(n, d, i, ref)
        for n, d, i in zip(compared["pn"], compared["pd"], compared["indicator_code"], strict=True)
    ]
    values = values.merge(
        compared[[*KEY, "communes_compared", "compared_value", "compared_previous_value"]],
        how="left",
        on=KEY,
    )
    values["communes_compared"] = values["communes_compared"].fillna(0)
    return values


def recompute_indicator_values(
    settings: Settings, expected: dict[str, list[str]], ref: Reference
) -> pd.DataFrame:
    parts = commune_parts(current_figures(settings), expected, ref)
    return with_history(roll_up(parts, ref), parts, ref)


def national_statuses(
    settings: Settings, expected: dict[str, list[str]], ref: Reference
) -> pd.DataFrame:
    """The status of every district, province and country row against the national milestone
    its cycle's year leads up to (domain README, "Rules for targets"), as KEY + target_year +
    target_status: `interim` on half-year cycles; a unit judged on each area part where the
    decision sets rural and urban figures (CT04c): met when every part is, not met when any
    part is not. Rows of units with a plan target are left to the caller."""
    milestones = pd.DataFrame(read_seed("national_targets.csv"))
    milestones["year"] = milestones["year"].astype(int)
    milestones["target_value"] = milestones["target_value"].astype(float)
    parts = commune_parts(current_figures(settings), expected, ref)
    values = with_history(roll_up(parts, ref), parts, ref).set_index(KEY)
    area_values = {
        area: roll_up(rows, ref).set_index(KEY)["value"]
        for area, rows in parts.groupby("area_type")
    }
    years = sorted(set(milestones["year"]))
    out = []
    for key, row in values.iterrows():
        cycle = Cycle.parse(str(key[0]))
        later = [y for y in years if y >= cycle.year]
        if not later:
            continue
        targets = milestones[
            (milestones["year"] == later[0]) & (milestones["indicator_code"] == key[3])
        ]
        if targets.empty:
            continue
        if cycle.kind != "Y":
            out.append((*key, later[0], "interim"))
            continue
        statuses = []
        for target in targets.itertuples():
            if target.scope == "all":
                value = row["value"]
            elif key in area_values[target.scope].index:
                value = area_values[target.scope][key]
            else:
                continue  # no commune of that area type in the unit
            statuses.append(
                judge(
                    target.comparator,
                    target.target_value,
                    value,
                    row["numerator"],
                    row["compared_value"],
                    row["compared_previous_value"],
                )
            )
        status = (
            "not_met" if "not_met" in statuses else "unknown" if "unknown" in statuses else "met"
        )
        out.append((*key, later[0], status))
    return pd.DataFrame(out, columns=[*KEY, "target_year", "target_status"])


def judge(
    comparator: str,
    target: float,
    value: float,
    numerator: float,
    compared: float,
    compared_previous: float,
) -> str:
    """A target judged the way the plans state it."""
    if comparator in (">=", ">", "<=", "<", "="):
        if math.isnan(value):
            return "unknown"
        met = {
            ">=": value >= target - 1e-9,
            ">": value > target + 1e-9,
            "<=": value <= target + 1e-9,
            "<": value < target - 1e-9,
            "=": abs(value - target) <= 1e-9,
        }[comparator]
        return "met" if met else "not_met"
    if comparator == "eliminate":
        return "unknown" if math.isnan(numerator) else ("met" if numerator == 0 else "not_met")
    if math.isnan(compared) or math.isnan(compared_previous):
        return "unknown"
    if compared_previous == 0:
        return "met" if compared == 0 else "not_met"
    if comparator == "decline":
        return "met" if compared < compared_previous else "not_met"
    fall = (compared_previous - compared) * 100 / compared_previous
    return "met" if fall >= target - 1e-9 else "not_met"


def assert_same_values(
    actual: pd.DataFrame, expected: pd.DataFrame, key: list[str], columns: list[str]
) -> None:
    """Same rows by key, and every column equal (floats to 1e-9 relative; nulls alike)."""
    merged = actual.merge(
        expected, on=key, how="outer", suffixes=("_mart", "_recomputed"), indicator=True
    )
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, unmatched[[*key, "_merge"]].head(20).to_string()
    for column in columns:
        left = pd.to_numeric(merged[f"{column}_mart"], errors="coerce").astype(float)
        right = pd.to_numeric(merged[f"{column}_recomputed"], errors="coerce").astype(float)
        same = np.isclose(left, right, rtol=1e-9, atol=1e-9, equal_nan=True)
        differing = merged.loc[~same, [*key, f"{column}_mart", f"{column}_recomputed"]]
        assert differing.empty, f"{column} differs in {len(differing)} rows:\n" + (
            differing.head(20).to_string()
        )
