"""One generated inbox of two provinces, ingested and built once per session (dbt builds take
seconds); tests that change the warehouse work on a copy."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from core.settings import Settings
from core.warehouse import Warehouse
from cycle.transform import TransformSummary, run_transform
from devtools.generator import GeneratedInbox, generate_inbox
from ingest.pipeline import ingest_cycle

CYCLES = ("2022-Y", "2023-H1", "2023-Y", "2024-Y", "2025-Y")
"""2023 holds Thanh Bình's targets (half-year: interim; annual: judged, CT13 against 2022-Y);
2025-Y is after the reform, where nothing is compared with 2024-Y."""
STATE_RELATIONS = (
    "staging.stg_ops__step_ledger_entries",
    "marts.fct_cycle_states",
    "marts.fct_signoff_states",
)
"""The views over the steps' ledger (the sign-off states read the cycle's states): each run
records its own time there, so they are compared by identity, not by content, where figures
are compared."""
PROVINCES = ("12", "87")
"""Lai Châu (Tam Đường's plan deadlines) and Đồng Tháp (Thanh Bình's plan targets)."""


@dataclass
class BuiltWarehouse:
    settings: Settings
    generated: GeneratedInbox
    summary: TransformSummary


def settings_under(base: Path, warehouse: str | None = None) -> Settings:
    return Settings(
        inbox=base / "inbox",
        warehouse=warehouse or str(base / "warehouse" / "warehouse.duckdb"),
        reports=base / "reports",
        archive=base / "archive",
        contacts=base / "contacts.csv",
    )


def read(settings: Settings, sql: str) -> pd.DataFrame:
    warehouse = Warehouse(settings.warehouse)
    with warehouse.connect(read_only=warehouse.kind == "duckdb") as con:
        return con.query_df(sql)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    base = tmp_path_factory.mktemp("transform")
    generated = generate_inbox(
        base / "inbox", CYCLES, provinces=list(PROVINCES), file_format="csv", seed=7
    )
    settings = settings_under(base)
    for cycle_id in CYCLES:
        ingest_cycle(settings, Cycle.parse(cycle_id))
    summary = run_transform(settings, Cycle.parse(CYCLES[-1]), full_refresh=True, unit_tests=True)
    return BuiltWarehouse(settings, generated, summary)


def copy_built(built: BuiltWarehouse, base: Path) -> BuiltWarehouse:
    """The built warehouse and its inbox copied under `base`."""
    settings = settings_under(base)
    shutil.copytree(built.settings.inbox, settings.inbox)
    Path(settings.warehouse).parent.mkdir(parents=True)
    shutil.copy2(built.settings.warehouse, settings.warehouse)
    return BuiltWarehouse(settings, built.generated, built.summary)


def built_on_postgres(built: BuiltWarehouse, url: str, base: Path) -> BuiltWarehouse:
    """The same inbox (copied under `base`) ingested and built on the PostgreSQL database."""
    settings = settings_under(base, warehouse=url)
    shutil.copytree(built.settings.inbox, settings.inbox)
    for cycle_id in CYCLES:
        ingest_cycle(settings, Cycle.parse(cycle_id))
    summary = run_transform(settings, Cycle.parse(CYCLES[-1]))
    return BuiltWarehouse(settings, built.generated, summary)


@pytest.fixture
def built_copy(built: BuiltWarehouse, tmp_path: Path) -> BuiltWarehouse:
    """The built warehouse and its inbox copied, to change without disturbing other tests."""
    return copy_built(built, tmp_path)
