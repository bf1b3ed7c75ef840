"""Synthetic marts with the columns the reports read (issues 3 and 4), written to a real
DuckDB file (or PostgreSQL database).

The marts are being built by dbt in parallel; until they land, the reports are tested on tables
made here from the real hierarchy seeds, with plausible figures rolled up commune -> district ->
province like for like. `plant` fixes chosen commune figures before the roll-up so tests know
exactly what the reports must show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from core.cycles import Cycle
from core.reference import AGENCIES, SEEDS_DIR, AdminUnit, agency_name_vi
from core.warehouse import Warehouse, WarehouseConnection
from reports.load import INPUTS

MART_COLUMNS: dict[str, tuple[str, ...]] = {
    i.mart: tuple(
        dict.fromkeys(
            (
                *{"dim_admin_units": ("hierarchy",), "dim_indicators": ()}.get(i.mart, ("cycle",)),
                *i.columns,
            )
        )
    )
    for i in INPUTS.values()
}
"""The columns the reports read, and those their filters name."""

COUNTRY = {"unit_code": "VN", "name_vi": "Toàn quốc", "name_ascii": "Toan quoc"}


def _contract_types() -> dict[str, dict[str, str]]:
    """Each mart's column types, as its dbt contract declares them."""
    path = SEEDS_DIR.parent / "models" / "marts" / "_marts__models.yml"
    models = yaml.safe_load(path.read_text(encoding="utf-8"))["models"]
    return {m["name"]: {c["name"]: c["data_type"] for c in m["columns"]} for m in models}


TYPES: dict[str, dict[str, str]] = {
    **_contract_types(),
    # a view over the findings `cycle validate` writes (expectations/findings.py)
    "fct_quality_issues": {
        "observed_value": "double precision",
        "expected_value": "double precision",
    },
}


# Typical proportions (numerator / denominator) and denominator sizes per indicator family.
_DENOMINATOR_SIZE = {
    "live_births": (20, 120),
    "hiv_exposed_infants": (0, 6),
    "schools_total": (3, 15),
    "special_circumstances": (5, 60),
    "emergency_needing": (0, 20),
    "primary_cohort": (40, 200),
    "lowersec_cohort": (40, 200),
    "u1_total": (20, 120),
}
_LOWER_IS_BETTER_RATE = {
    "CT03a": (0.002, 0.012),
    "CT03b": (0.004, 0.016),
    "CT03c": (0.008, 0.022),
    "CT04a": (0.04, 0.16),
    "CT04b": (0.10, 0.24),
    "CT04c": (0.02, 0.10),
    "CT08a": (0.02, 0.08),
    "CT10": (0.01, 0.06),
    "CT11a": (0.003, 0.008),
    "CT17b": (0.0, 0.003),
    "CT18b": (0.0, 0.01),
}


@dataclass
class Plant:
    """A commune figure fixed before the roll-up."""

    commune: str
    indicator: str
    numerator: float | None
    denominator: float | None = None


@dataclass
class PlantedIssue:
    rule_id: str
    severity: str
    reporter_code: str
    unit_code: str
    element_code: str | None
    indicator_code: str | None
    observed_value: float | None
    expected_value: float | None
    message_vi: str
    message_en: str


@dataclass
class SyntheticMarts:
    cycle: Cycle
    frames: dict[str, pd.DataFrame]
    communes: list[str] = field(default_factory=list)


def seed_frame(name: str) -> pd.DataFrame:
    """A seed as text; blank cells are "" (falsy), and become NULL when written."""
    return pd.read_csv(SEEDS_DIR / name, dtype=str, keep_default_na=False)


def synthetic_marts(
    cycles: list[Cycle],
    *,
    provinces: list[str] | None = None,
    seed: int = 7,
    plants: list[Plant] | None = None,
    issues: list[PlantedIssue] | None = None,
    random_issues: int = 2,
    missing_share: float = 0.08,
) -> SyntheticMarts:
    """Marts for `cycles` (oldest first); the previous comparable cycle's values become
    `previous_value` when it is among them and in the same hierarchy."""
    admin = seed_frame("admin_units.csv")
    indicators = seed_frame("indicators.csv")
    values_by_cycle: dict[str, pd.DataFrame] = {}
    series_frames: list[pd.DataFrame] = []
    latest = max(cycles).hierarchy
    status_frames, rate_frames, issue_frames = [], [], []
    last_communes: list[str] = []
    for n, cycle in enumerate(sorted(cycles)):
        rng = np.random.default_rng(seed + n)
        h = cycle.hierarchy
        units = admin[admin["hierarchy"] == h]
        communes = units[units["unit_level"] == "commune"]
        if provinces:
            communes = communes[communes["province_code"].isin(provinces)]
        communes = communes.sort_values("unit_code").reset_index(drop=True)
        last_communes = communes["unit_code"].tolist()
        received = rng.random(len(communes)) >= missing_share
        commune_values = _commune_values(
            rng, communes, indicators, received, plants if cycle == max(cycles) else None
        )
        values = _roll_up(commune_values, communes, indicators, cycle)
        series_frames.append(values.assign(series_basis="as_reported"))
        if h != latest:
            series_frames.append(_carried(commune_values, indicators, cycle, latest, provinces))
        prev = values_by_cycle.get(cycle.previous_comparable.id)
        if prev is not None:
            # the same units: every unit in the same hierarchy, the country across the reform
            same = (
                prev
                if cycle.previous_comparable.hierarchy == h
                else prev[prev["unit_level"] == "country"]
            )
            values = values.drop(columns="previous_value").merge(
                same[["unit_level", "unit_code", "indicator_code", "value"]].rename(
                    columns={"value": "previous_value"}
                ),
                on=["unit_level", "unit_code", "indicator_code"],
                how="left",
            )
        values["value_change"] = values["value"] - values["previous_value"]
        values_by_cycle[cycle.id] = values[list(MART_COLUMNS["fct_indicator_values"])]
        status = _return_status(rng, communes, received, cycle, units)
        status_frames.append(status)
        rate_frames.append(_rates(status, communes, cycle, units))
        issue_frames.append(
            _issues(
                rng,
                communes,
                status,
                cycle,
                random_issues,
                issues if cycle == max(cycles) else None,
            )
        )
    frames = {
        "fct_indicator_values": pd.concat(values_by_cycle.values(), ignore_index=True),
        "fct_indicator_series": _series(series_frames),
        "fct_return_status": pd.concat(status_frames, ignore_index=True),
        "fct_reporting_rates": pd.concat(rate_frames, ignore_index=True),
        "fct_quality_issues": pd.concat(issue_frames, ignore_index=True),
        "dim_admin_units": pd.concat(
            [
                admin,
                pd.DataFrame(
                    [
                        {**COUNTRY, "hierarchy": h, "unit_level": "country"}
                        for h in sorted(set(admin["hierarchy"]))
                    ]
                ),
            ],
            ignore_index=True,
        )[list(MART_COLUMNS["dim_admin_units"])],
        "dim_indicators": indicators.assign(
            aggregation=indicators["denominator"].map(
                lambda d: (
                    "count" if d == "" else "share_of_communes" if d == "@communes" else "ratio"
                )
            )
        )[list(MART_COLUMNS["dim_indicators"])],
    }
    return SyntheticMarts(max(cycles), frames, last_communes)


def _commune_values(
    rng: np.random.Generator,
    communes: pd.DataFrame,
    indicators: pd.DataFrame,
    received: np.ndarray,
    plants: list[Plant] | None,
) -> pd.DataFrame:
    n = len(communes)
    parts = []
    pop = rng.integers(800, 5000, n).astype(float)
    for ind in indicators.itertuples(index=False):
        code, den_el = ind.indicator_code, ind.denominator
        if den_el == "@communes":
            den = np.ones(n)
            num = (rng.random(n) < 0.6).astype(float)
        elif not den_el:  # CT13: a count
            den = np.full(n, np.nan)
            num = rng.poisson(1.5, n).astype(float)
        else:
            lo, hi = _DENOMINATOR_SIZE.get(den_el, (0.2, 1.0))
            den = (
                rng.integers(lo, hi + 1, n).astype(float)
                if hi > 1
                else np.round(pop * rng.uniform(lo, hi, n))
            )
            if code in ("CT09", "CT11b"):
                num = rng.poisson(1.2 if code == "CT09" else 0.6, n).astype(float)
            elif code == "CT06":
                num = rng.binomial(den.astype(int), 0.1).astype(float)
            elif code in _LOWER_IS_BETTER_RATE:
                num = np.round(den * rng.uniform(*_LOWER_IS_BETTER_RATE[code], n))
            else:
                num = np.round(den * rng.uniform(0.80, 1.0, n))
        gaps = (rng.random(n) < 0.03) | ~received
        num[gaps] = np.nan
        if den_el:
            den[~received] = np.nan
        parts.append(
            pd.DataFrame(
                {
                    "unit_code": communes["unit_code"],
                    "indicator_code": code,
                    "numerator": num,
                    "denominator": den,
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    for p in plants or []:
        mask = (frame["unit_code"] == p.commune) & (frame["indicator_code"] == p.indicator)
        frame.loc[mask, "numerator"] = np.nan if p.numerator is None else p.numerator
        if p.denominator is not None:
            frame.loc[mask, "denominator"] = p.denominator
    return frame


def _value(frame: pd.DataFrame, factor: pd.Series, is_count: pd.Series) -> pd.Series:
    rate = frame["numerator"] / frame["denominator"].where(frame["denominator"] > 0) * factor
    return rate.where(~is_count, frame["numerator"])


def _roll_up(
    commune_values: pd.DataFrame, communes: pd.DataFrame, indicators: pd.DataFrame, cycle: Cycle
) -> pd.DataFrame:
    meta = indicators.set_index("indicator_code")
    factor = commune_values["indicator_code"].map(meta["factor"].astype(float))
    is_count = commune_values["indicator_code"].map(meta["denominator"] == "")
    cv = commune_values.merge(
        communes[["unit_code", "district_code", "province_code"]], on="unit_code"
    )
    known = cv["numerator"].notna() & (cv["denominator"].notna() | is_count)
    cv["included"] = known.astype(int)
    cv["num_k"] = cv["numerator"].where(known)
    cv["den_k"] = cv["denominator"].where(known)
    commune_rows = pd.DataFrame(
        {
            "unit_level": "commune",
            "unit_code": cv["unit_code"],
            "indicator_code": cv["indicator_code"],
            "numerator": cv["numerator"],
            "denominator": cv["denominator"],
            "value": _value(cv, factor, is_count),
            "communes_included": cv["included"],
            "communes_in_force": 1,
        }
    )
    levels = [("province", "province_code"), ("country", "country_code")]
    if cycle.has_districts:
        levels.insert(0, ("district", "district_code"))
    cv["country_code"] = COUNTRY["unit_code"]
    rolled = [commune_rows]
    for level, key in levels:
        g = cv.groupby([key, "indicator_code"], as_index=False).agg(
            numerator=("num_k", "sum"),
            denominator=("den_k", "sum"),
            communes_included=("included", "sum"),
            communes_in_force=("unit_code", "count"),
            has=("num_k", "count"),
        )
        g.loc[g["has"] == 0, ["numerator", "denominator"]] = np.nan
        g_factor = g["indicator_code"].map(meta["factor"].astype(float))
        g_count = g["indicator_code"].map(meta["denominator"] == "")
        g.loc[g_count, "denominator"] = np.nan
        g["value"] = _value(g, g_factor, g_count)
        rolled.append(
            g.rename(columns={key: "unit_code"}).drop(columns="has").assign(unit_level=level)
        )
    out = pd.concat(rolled, ignore_index=True)
    out["cycle"] = cycle.id
    out["hierarchy"] = cycle.hierarchy
    out["coverage_pct"] = 100.0 * out["communes_included"] / out["communes_in_force"]
    _targets(out, cycle)
    out["previous_value"] = np.nan
    return out


def _series(frames: list[pd.DataFrame]) -> pd.DataFrame:
    series = pd.concat(frames, ignore_index=True)
    divided = series.get("includes_divided_commune", pd.Series(False, index=series.index))
    series["includes_divided_commune"] = divided.fillna(False).astype(bool)
    return series[list(MART_COLUMNS["fct_indicator_series"])]


def _carried(
    commune_values: pd.DataFrame,
    indicators: pd.DataFrame,
    cycle: Cycle,
    to_hierarchy: str,
    provinces: list[str] | None,
) -> pd.DataFrame:
    """A pre-reform cycle's commune figures carried onto today's provinces through the
    successions (no old commune spans two provinces), like for like; a value that includes an
    old commune divided between several new ones says so."""
    successions = seed_frame("commune_successions.csv")
    successions = successions[successions["hierarchy"] == to_hierarchy].drop_duplicates(
        "old_commune_code"
    )
    if provinces:
        successions = successions[successions["new_province_code"].isin(provinces)]
    meta = indicators.set_index("indicator_code")
    cv = commune_values.merge(
        successions[["old_commune_code", "new_province_code", "old_commune_divided"]],
        left_on="unit_code",
        right_on="old_commune_code",
    )
    is_count = cv["indicator_code"].map(meta["denominator"] == "")
    known = cv["numerator"].notna() & (cv["denominator"].notna() | is_count)
    cv["included"] = known.astype(int)
    cv["num_k"] = cv["numerator"].where(known)
    cv["den_k"] = cv["denominator"].where(known)
    cv["divided_k"] = known & (cv["old_commune_divided"] == "true")
    # today's provinces, and the country (the same unit on both sides: carried too)
    cv = pd.concat(
        [
            cv.assign(level="province"),
            cv.assign(level="country", new_province_code=COUNTRY["unit_code"]),
        ],
        ignore_index=True,
    )
    g = cv.groupby(["level", "new_province_code", "indicator_code"], as_index=False).agg(
        numerator=("num_k", "sum"),
        denominator=("den_k", "sum"),
        communes_included=("included", "sum"),
        communes_in_force=("unit_code", "count"),
        includes_divided_commune=("divided_k", "any"),
        has=("num_k", "count"),
    )
    g.loc[g["has"] == 0, ["numerator", "denominator"]] = np.nan
    g_count = g["indicator_code"].map(meta["denominator"] == "")
    g.loc[g_count, "denominator"] = np.nan
    g["value"] = _value(g, g["indicator_code"].map(meta["factor"].astype(float)), g_count)
    return (
        g.drop(columns="has")
        .rename(columns={"new_province_code": "unit_code", "level": "unit_level"})
        .assign(
            cycle=cycle.id,
            hierarchy=to_hierarchy,
            coverage_pct=100.0 * g["communes_included"] / g["communes_in_force"],
            series_basis="carried_across_reform",
        )
    )


def _targets(out: pd.DataFrame, cycle: Cycle) -> None:
    """Thanh Bình's 2023 targets applied to every district (or province after the reform), and
    the national milestone the cycle's year leads up to (seed national_targets) to the units
    above them: the province before the reform, and the country. Level comparators on `all`
    communes only (what the reports draw); the warehouse judges the rest."""
    level = "district" if cycle.has_districts else "province"
    out["target_source"] = None
    out["plan_id"] = None
    out["target_year"] = np.nan
    out["target_scope"] = None
    out["target_comparator"] = None
    out["target_value"] = np.nan
    out["target_text"] = None
    out["target_note_vi"] = None
    out["target_note_en"] = None
    out["target_status"] = "no_target"
    plan = seed_frame("plan_targets.csv")
    plan = plan[plan["plan_id"] == "thanhbinh-2023"].assign(
        target_source="plan", note_vi="", note_en="", plan_id="thanhbinh-2023", year="2023"
    )
    _apply_targets(out, cycle, out["unit_level"] == level, plan)
    national = seed_frame("national_targets.csv").rename(columns={"source_excerpt": "target_text"})
    milestone = min(int(y) for y in national["year"] if int(y) >= cycle.year)
    national = national[national["year"] == str(milestone)].assign(
        target_source="national", plan_id=None
    )
    above = ["province", "country"] if level == "district" else ["country"]
    _apply_targets(out, cycle, out["unit_level"].isin(above), national)


def _apply_targets(
    out: pd.DataFrame, cycle: Cycle, units: pd.Series, targets: pd.DataFrame
) -> None:
    targets = targets[
        (targets["scope"] == "all") & targets["comparator"].isin([">=", ">", "<=", "<", "="])
    ]
    by_code = targets.set_index("indicator_code")
    on_level = units & out["indicator_code"].isin(by_code.index)
    codes = out.loc[on_level, "indicator_code"]
    for column, seed_column in (
        ("target_source", "target_source"),
        ("plan_id", "plan_id"),
        ("target_comparator", "comparator"),
        ("target_text", "target_text"),
        ("target_note_vi", "note_vi"),
        ("target_note_en", "note_en"),
    ):
        out.loc[on_level, column] = codes.map(by_code[seed_column].replace("", None))
    out.loc[on_level, "target_year"] = codes.map(by_code["year"].astype(float))
    out.loc[on_level, "target_scope"] = "all"
    out.loc[on_level, "target_value"] = codes.map(by_code["target_value"].astype(float))
    ops = {
        ">=": np.greater_equal,
        ">": np.greater,
        "<=": np.less_equal,
        "<": np.less,
        "=": np.equal,
    }
    for op, fn in ops.items():
        rows = on_level & (out["target_comparator"] == op)
        met = fn(out.loc[rows, "value"].round(6), out.loc[rows, "target_value"])
        out.loc[rows, "target_status"] = np.where(met, "met", "not_met")
    out.loc[on_level & out["value"].isna(), "target_status"] = "unknown"
    if not cycle.is_annual:
        out.loc[on_level & out["value"].notna(), "target_status"] = "interim"


def _deadline(cycle: Cycle) -> date:
    return date(cycle.year, 6, 15) if cycle.kind == "H1" else date(cycle.year, 12, 15)


def _return_status(
    rng: np.random.Generator,
    communes: pd.DataFrame,
    received: np.ndarray,
    cycle: Cycle,
    units: pd.DataFrame,
) -> pd.DataFrame:
    deadline = _deadline(cycle)
    agency_key = "district_code" if cycle.has_districts else "province_code"
    parents = communes.drop_duplicates(agency_key)
    agencies = pd.DataFrame(
        [
            {
                "reporter_code": f"{p[agency_key]}-{a}",
                "reporter_kind": "agency",
                "unit_code": p[agency_key],
                "district_code": p["district_code"],
                "province_code": p["province_code"],
            }
            for _, p in parents.iterrows()
            for a in AGENCIES
        ]
    )
    commune_rows = pd.DataFrame(
        {
            "reporter_code": communes["unit_code"],
            "reporter_kind": "commune",
            "unit_code": communes["unit_code"],
            "district_code": communes["district_code"],
            "province_code": communes["province_code"],
        }
    )
    frame = pd.concat([commune_rows, agencies], ignore_index=True)
    by_code = units.set_index("unit_code")

    def name(code: str, kind: str) -> str:
        if kind == "commune":
            return str(by_code.loc[code, "name_vi"])
        unit_code, _, agency = code.partition("-")
        row = by_code.loc[unit_code]
        unit = AdminUnit(
            hierarchy=cycle.hierarchy,
            level="district" if cycle.has_districts else "province",
            code=unit_code,
            name_vi=str(row["name_vi"]),
            name_ascii="",
            unit_type_vi="",
            area_type=None,
            district_code=None,
            province_code=str(row["province_code"]),
            parent_code=None,
        )
        return agency_name_vi(agency, unit)

    frame["reporter_name_vi"] = [
        name(c, k) for c, k in zip(frame["reporter_code"], frame["reporter_kind"], strict=True)
    ]
    n = len(frame)
    got = np.concatenate([received, rng.random(len(agencies)) >= 0.05])
    late_days = rng.integers(1, 20, n)
    on_time = got & (rng.random(n) < 0.85)
    frame["received"] = got
    frame["on_time"] = on_time
    frame["submitted_on"] = [
        (deadline - timedelta(days=int(d)) if ok else deadline + timedelta(days=int(d)))
        if g
        else None
        for g, ok, d in zip(got, on_time, late_days, strict=True)
    ]
    frame["superseded_count"] = np.where(got & (rng.random(n) < 0.05), 1, 0)
    frame["rejected_rows"] = np.where(got & (rng.random(n) < 0.03), 2, 0)
    frame["cycle"] = cycle.id
    if not cycle.has_districts:
        frame["district_code"] = None
    return frame[list(MART_COLUMNS["fct_return_status"])]


def _rates(
    status: pd.DataFrame, communes: pd.DataFrame, cycle: Cycle, units: pd.DataFrame
) -> pd.DataFrame:
    levels = [("province", "province_code"), ("country", "country_code")]
    if cycle.has_districts:
        levels.insert(0, ("district", "district_code"))
    status = status.assign(country_code=COUNTRY["unit_code"])
    parts = []
    for level, key in levels:
        for kind in ("commune", "agency", "all"):
            s = status if kind == "all" else status[status["reporter_kind"] == kind]
            g = s.groupby(key, as_index=False).agg(
                expected_returns=("reporter_code", "count"),
                received_returns=("received", "sum"),
                on_time_returns=("on_time", "sum"),
            )
            g = g.rename(columns={key: "unit_code"})
            g["unit_level"] = level
            g["reporter_kind"] = kind
            parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    out["reporting_rate"] = 100.0 * out["received_returns"] / out["expected_returns"]
    out["timeliness_rate"] = 100.0 * out["on_time_returns"] / out["expected_returns"]
    names = {
        **units.set_index("unit_code")["name_vi"].to_dict(),
        COUNTRY["unit_code"]: COUNTRY["name_vi"],
    }
    out["unit_name_vi"] = out["unit_code"].map(names)
    out["cycle"] = cycle.id
    return out[list(MART_COLUMNS["fct_reporting_rates"])]


def _issues(
    rng: np.random.Generator,
    communes: pd.DataFrame,
    status: pd.DataFrame,
    cycle: Cycle,
    per_province: int,
    planted: list[PlantedIssue] | None,
) -> pd.DataFrame:
    where = communes.set_index("unit_code")
    rows: list[dict[str, object]] = []

    def add(issue: PlantedIssue) -> None:
        unit = issue.unit_code
        district = where["district_code"].get(unit, unit if len(unit) == 3 else None)
        province = where["province_code"].get(unit)
        if province is None:
            match = status[status["unit_code"] == unit]
            province = match["province_code"].iloc[0] if len(match) else unit
        rows.append(
            {
                **issue.__dict__,
                "cycle": cycle.id,
                "district_code": district,
                "province_code": province,
            }
        )

    missing = status[~status["received"]]
    for r in missing.itertuples(index=False):
        add(
            PlantedIssue(
                "completeness.missing_return",
                "error",
                r.reporter_code,
                r.unit_code,
                None,
                None,
                None,
                None,
                f"Chưa nhận được báo cáo của {r.reporter_code} kỳ {cycle.id}.",
                f"No return received from {r.reporter_code} for {cycle.id}.",
            )
        )
    for _, group in communes.groupby("province_code"):
        picks = group.sample(min(per_province, len(group)), random_state=int(rng.integers(1e6)))
        for code in picks["unit_code"]:
            observed = float(rng.integers(900, 1500))
            add(
                PlantedIssue(
                    "consistency.numerator_le_denominator",
                    "error",
                    code,
                    code,
                    None,
                    "CT14",
                    observed,
                    800.0,
                    f"Số trẻ đăng ký khai sinh ({observed:.0f}) lớn hơn số trẻ dưới 5 "
                    f"tuổi (800) ở xã {code}.",
                    f"Registered births ({observed:.0f}) exceed children under 5 (800) "
                    f"in commune {code}.",
                )
            )
    for issue in planted or []:
        add(issue)
    columns = list(MART_COLUMNS["fct_quality_issues"])
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def _ddl(mart: str, kind: str) -> str:
    types = TYPES.get(mart, {})
    columns = ", ".join(f"{c} {types.get(c, 'varchar')}" for c in MART_COLUMNS[mart])
    return f"create table marts.{mart} ({columns})"


def write_marts(
    con: WarehouseConnection, marts: SyntheticMarts, skip: tuple[str, ...] = ()
) -> None:
    """Create schema `marts` with the tables the reports read, typed like dbt's output."""
    con.execute("create schema if not exists marts")
    for mart, frame in marts.frames.items():
        if mart in skip:
            continue
        con.execute(f"drop table if exists marts.{mart}")
        con.execute(_ddl(mart, con.kind))
        con.insert_df(f"marts.{mart}", _typed(mart, frame))
    if "fct_quality_issues" not in skip:
        # `cycle validate` logs each run; the reports show findings only for validated cycles
        con.execute("create schema if not exists quality")
        con.execute("drop table if exists quality.validation_runs")
        con.execute("create table quality.validation_runs (cycle varchar, suite varchar)")
        cycles = sorted(set(marts.frames["fct_indicator_values"]["cycle"]))
        for cycle in cycles:
            con.execute("insert into quality.validation_runs values (?, 'all')", [cycle])


def _typed(mart: str, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[list(MART_COLUMNS[mart])].copy()
    for column in out.columns:
        sql_type = TYPES.get(mart, {}).get(column, "varchar")
        if sql_type in ("integer", "bigint"):
            out[column] = pd.to_numeric(out[column]).round().astype("Int64")
        elif sql_type == "double precision":
            out[column] = pd.to_numeric(out[column]).astype("Float64")
        elif sql_type == "boolean":
            out[column] = out[column].astype("boolean")
        else:
            out[column] = pd.Series(
                [_blank_to_null(v) for v in out[column].tolist()], index=out.index, dtype=object
            )
    return out


def _blank_to_null(value: object) -> object:
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def write_duckdb(path: Path, marts: SyntheticMarts, skip: tuple[str, ...] = ()) -> Path:
    with Warehouse(str(path)).connect() as con:
        write_marts(con, marts, skip)
    return path
