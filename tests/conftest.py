"""Fixtures shared by every test folder: return files written as offices write them, and a
generated inbox."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

# dbt, GX and Airflow read these at import time: set them before anything imports those.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("DO_NOT_TRACK", "1")
# Each test process gets its own Airflow home (SQLite metadata), never the user's.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__PARALLELISM"] = "2"
os.environ["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] = "False"

Row = Sequence[object]


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Row],
    *,
    delimiter: str = ",",
    bom: bool = False,
    encoding: str = "utf-8",
) -> Path:
    """A CSV return as a spreadsheet exports it."""
    lines = [delimiter.join(header)]
    lines += [delimiter.join("" if v is None else str(v) for v in row) for row in rows]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(
    path: Path,
    info: Sequence[tuple[str, object]],
    rows: Sequence[Row],
    *,
    header: Sequence[str] = ("unit_code", "element_code", "element_name", "value"),
    info_sheet: str = "ThongTin",
    data_sheet: str = "SoLieu",
) -> Path:
    """An xlsx return written with xlsxwriter, as Excel saves it. A value that is a string
    starting with '=' is written as a formula (with its cached result after '|', if any)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet = workbook.add_worksheet(info_sheet)
    for r, (key, value) in enumerate(info):
        sheet.write_string(r, 0, key)
        if isinstance(value, datetime):
            sheet.write_datetime(r, 1, value, date_format)
        elif value is not None:
            sheet.write(r, 1, value)
    data = workbook.add_worksheet(data_sheet)
    data.write_row(0, 0, list(header))
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, str) and value.startswith("="):
                formula, _, cached = value.partition("|")
                try:
                    result: object = float(cached)
                except ValueError:
                    result = cached
                data.write_formula(r, c, formula, None, result)
            elif value is None:
                continue
            elif isinstance(value, str):
                data.write_string(r, c, value)
            else:
                data.write(r, c, value)
    workbook.close()
    return path


def settings_under(base: Path) -> Settings:
    """Every path of a deployment in one folder: inbox, DuckDB warehouse, reports, archive,
    contacts."""
    return Settings(
        inbox=base / "inbox",
        warehouse=str(base / "warehouse.duckdb"),
        reports=base / "reports",
        archive=base / "archive",
        contacts=base / "contacts.csv",
    )


def set_received(path: Path, when: datetime) -> None:
    """Set the file's arrival time (its mtime, in UTC)."""
    stamp = when.replace(tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))


@pytest.fixture(scope="session")
def demo_inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demonstration inbox (five plans' districts, 2021-H1 to 2026-H1), generated once."""
    from devtools.generator import DEMO_CYCLES, generate_inbox

    inbox = tmp_path_factory.mktemp("demo") / "inbox"
    generate_inbox(inbox, DEMO_CYCLES, file_format="mixed", seed=1)
    return inbox


POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database on the local PostgreSQL server, dropped afterwards."""
    import psycopg

    name = f"cpw_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
