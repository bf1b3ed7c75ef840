"""Time a validation of a national cycle: every pre-reform commune (~10,500), so ~590,000 element
rows, ~330,000 indicator rows, ~10,500 commune rows and ~12,600 expected returns, with ~0.5% of
rows failing a rule.

    PYTHONPATH=. .venv/bin/python tests/expectations/bench_national.py [warehouse-url]

Not a test (no timed assertions in tests): run it by hand when the suites or the runner change.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from core.cycles import Cycle
from core.reference import AGENCIES, reference
from core.settings import Settings
from core.warehouse import Warehouse
from expectations.suites import SQL_TYPES, load_suites

sys.path.insert(0, str(Path(__file__).parent))
from qa_tables import BASE

CYCLE = Cycle.parse("2024-Y")


def national_tables(seed: int = 1) -> dict[str, pd.DataFrame]:
    ref = reference()
    rng = np.random.default_rng(seed)
    communes = sorted(ref.units_at("pre_reform", "commune"), key=lambda u: u.code)
    place = pd.DataFrame(
        {
            "cycle": CYCLE.id,
            "hierarchy": CYCLE.hierarchy,
            "unit_code": [u.code for u in communes],
            "unit_level": "commune",
            "unit_name": [u.name_vi for u in communes],
            "district_code": [u.district_code for u in communes],
            "province_code": [u.province_code for u in communes],
        }
    )
    n = len(place)
    scale = rng.uniform(0.5, 3.0, n)

    returns = place.assign(
        reporter_code=place["unit_code"], reporter_role="commune", reporter_name=place["unit_name"]
    )
    districts = place.drop_duplicates("district_code")
    agencies = pd.concat(
        [
            districts.assign(
                reporter_code=districts["district_code"] + f"-{a}",
                reporter_role=a,
                reporter_name=f"{a} " + districts["district_code"],
                unit_code=districts["district_code"],
                unit_level="district",
            )
            for a in AGENCIES
        ]
    )
    returns = pd.concat([returns, agencies], ignore_index=True)
    received = rng.random(len(returns)) > 0.005
    returns["is_received"] = received
    returns["due_date"] = pd.Timestamp("2024-12-10").date()
    returns["submitted_on"] = np.where(received, pd.Timestamp("2024-12-01").date(), None)
    returns["is_on_time"] = np.where(received, rng.random(len(returns)) > 0.005, None)

    elements = []
    for code, meta in ref.elements.items():
        role = meta.reported_by
        reporter = place["unit_code"] if role == "commune" else place["district_code"] + f"-{role}"
        value = np.round(BASE[code] * (1 if meta.kind == "flag" else scale))
        z = rng.normal(0, 1, n)
        ratio = rng.normal(1, 0.05, n)
        bad = rng.random(n)
        z[bad < 0.002] = 9.0
        ratio[(bad >= 0.002) & (bad < 0.004)] = 1.6
        value_or_null = np.where(rng.random(n) < 0.002, np.nan, value)
        elements.append(
            place.assign(
                reporter_code=reporter,
                reporter_role=role,
                reporter_name=reporter,
                element_code=code,
                element_kind=meta.kind,
                element_name_vi=meta.name_vi,
                element_name_en=meta.name_en,
                value=value_or_null,
                history_cycles=4,
                history_median=value,
                modified_z=z,
                mean3=value,
                ratio_to_mean3=ratio,
            )
        )
    element_checks = pd.concat(elements, ignore_index=True)

    indicators = []
    for ind in ref.indicators.values():
        if not ind.denominator or ind.denominator.startswith("@"):
            continue
        num = np.round(BASE[ind.numerator] * scale)
        den = np.round(BASE[ind.denominator] * scale)
        num = np.where(rng.random(n) < 0.002, den + 5, num)
        role = ref.elements[ind.numerator].reported_by
        reporter = place["unit_code"] if role == "commune" else place["district_code"] + f"-{role}"
        den_role = ref.elements[ind.denominator].reported_by
        den_reporter = (
            place["unit_code"] if den_role == "commune" else place["district_code"] + f"-{den_role}"
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den > 0, num / den * ind.factor, np.nan)
        indicators.append(
            place.assign(
                indicator_code=ind.code,
                indicator_name_vi=ind.name_vi,
                indicator_name_en=ind.name_en,
                indicator_unit=ind.unit,
                factor=float(ind.factor),
                numerator_element=ind.numerator,
                numerator_name_vi=ref.elements[ind.numerator].name_vi,
                numerator_name_en=ref.elements[ind.numerator].name_en,
                denominator_element=ind.denominator,
                denominator_name_vi=ref.elements[ind.denominator].name_vi,
                denominator_name_en=ref.elements[ind.denominator].name_en,
                reporter_code=reporter,
                numerator_reporter_code=reporter,
                denominator_reporter_code=den_reporter,
                numerator=num,
                denominator=den,
                value=value,
            )
        )
    indicator_checks = pd.concat(indicators, ignore_index=True)

    commune = place.assign(
        commune_reporter_code=place["unit_code"],
        **{f"{a}_reporter_code": place["district_code"] + f"-{a}" for a in AGENCIES},
    )
    for code in BASE:
        commune[code] = np.round(BASE[code] * scale)
    bad = rng.random(n)
    commune.loc[bad < 0.003, "deaths_neonatal"] = commune["deaths_under1"] + 2
    commune.loc[(bad >= 0.003) & (bad < 0.006), "abused_cases_police"] = commune["abused"] + 2
    commune["u5_weighed_per_pop_under5"] = commune["u5_weighed"] / commune["pop_under5"].clip(1)
    return {
        "intermediate.int_returns_checked": returns,
        "intermediate.int_element_values_checked": element_checks,
        "intermediate.int_indicator_values_checked": indicator_checks,
        "intermediate.int_communes_checked": commune,
    }


def write(url: str, tables: dict[str, pd.DataFrame]) -> None:
    with Warehouse(url).connect() as con:
        for suite in load_suites():
            columns = list(suite.columns)
            ddl = ", ".join(f'"{c}" {SQL_TYPES[suite.columns[c]]}' for c in columns)
            con.execute(f"create schema if not exists {suite.schema}")
            con.execute(f"drop table if exists {suite.table}")
            con.execute(f"create table {suite.table} ({ddl})")
            con.insert_df(suite.table, tables[suite.table].loc[:, columns])


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-national-"))
    url = sys.argv[1] if len(sys.argv) > 1 else str(root / "warehouse.duckdb")
    settings = Settings(
        inbox=root / "inbox",
        warehouse=url,
        reports=root / "reports",
        archive=root / "archive",
        contacts=root / "contacts.csv",
    )
    tables = national_tables()
    print({t: len(f) for t, f in tables.items()})
    started = time.perf_counter()
    write(url, tables)
    print(f"write tables: {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    from expectations.gx_runtime import import_gx

    import_gx()
    print(f"import GX: {time.perf_counter() - started:.1f} s")

    from expectations import runner

    spent: dict[str, float] = {}

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    runner.read_check_table = timed("read tables", runner.read_check_table)  # type: ignore[assignment]
    runner.read_failing_rows = timed("read failing rows", runner.read_failing_rows)  # type: ignore[assignment]
    runner.failing_rows = timed("failing rows", runner.failing_rows)  # type: ignore[assignment]
    runner.replace_provinces = timed("write findings", runner.replace_provinces)  # type: ignore[assignment]
    from expectations.gx_runtime import GxRun

    GxRun.validate = timed("GX validate", GxRun.validate)  # type: ignore[method-assign]
    GxRun.build_data_docs = timed("data docs", GxRun.build_data_docs)  # type: ignore[method-assign]

    started = time.perf_counter()
    summary = runner.run_validation(settings, CYCLE)
    total = time.perf_counter() - started
    print({k: round(v, 1) for k, v in spent.items()}, f"total {total:.1f} s")
    print(f"findings: {summary.findings}", {c.rule_id: c.findings for c in summary.counts})
    size = sum(p.stat().st_size for p in (root / "reports").rglob("*") if p.is_file())
    print(f"data docs: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
