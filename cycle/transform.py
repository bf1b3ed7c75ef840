"""Build the warehouse's staging, intermediate and marts layers with dbt, in this process.

`run_transform` runs `dbt build` (models and data tests; seeds when their files changed; unit
tests on request) on the warehouse of the settings. The large facts are incremental by cycle: a
run for one cycle deletes and rebuilds that cycle and the next comparable one (whose
previous-cycle comparisons depend on it); the first build of a warehouse, and
`full_refresh=True`, build every cycle. `docs` writes the dbt documentation for analysts.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.cycles import Cycle
from core.reference import PROJECT_ROOT
from core.settings import Settings
from core.warehouse import Warehouse

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DOCS_FILES = ("static_index.html", "index.html", "manifest.json", "catalog.json")
"""What analysts need of `dbt docs generate`: the one-file page, and the site `dbt docs serve`
would show (index.html reads the two JSON files beside it)."""


@dataclass
class TransformSummary:
    cycle: str
    warehouse: str
    cycles_rebuilt: list[str]
    """The cycles deleted and rebuilt; empty when every cycle was built."""
    full_refresh: bool
    seeds_loaded: int = 0
    models_built: int = 0
    tests_passed: int = 0
    unit_tests_passed: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class NodeFailure:
    kind: str
    name: str
    status: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.status}): {self.message}"


class TransformError(RuntimeError):
    """dbt could not build the warehouse; `failures` names the models and tests that failed."""

    def __init__(self, command: str, failures: Sequence[NodeFailure], detail: str = "") -> None:
        self.failures = list(failures)
        lines = [f"dbt {command} thất bại / dbt {command} failed"]
        if detail:
            lines.append(detail)
        lines += [f"  - {failure}" for failure in self.failures]
        super().__init__("\n".join(lines))


def next_comparable(cycle: Cycle) -> Cycle:
    """The cycle whose previous comparable cycle is `cycle` (2024-H1 -> 2025-H1)."""
    return Cycle(cycle.year + 1, cycle.kind)


def run_transform(
    settings: Settings, cycle: Cycle, full_refresh: bool = False, *, unit_tests: bool = False
) -> TransformSummary:
    """`dbt build` for a cycle: rebuild the cycle (and the next comparable cycle, whose
    comparisons with it may change) in every incremental model, refresh the small tables,
    reload the seeds if their files changed, and run every data test. Raises TransformError
    naming what failed.

    dbt's unit tests check the SQL's logic on fixed inputs, not the data: like dbt Labs
    advise, they run in development and CI (`unit_tests=True`), not on every production run."""
    warehouse = Warehouse(settings.warehouse)
    _ensure_sources(warehouse)
    rebuilt = [] if full_refresh else _cycles_to_rebuild(warehouse, cycle)
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    else:
        args += ["--vars", json.dumps({"cycles": rebuilt})]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    seed_versions = _seed_versions()
    reload_seeds = full_refresh or _loaded_seed_versions(warehouse) != seed_versions
    if not reload_seeds:
        args += ["--exclude-resource-type", "seed"]
    started = time.perf_counter()
    results = _invoke(warehouse, args, "build")
    if reload_seeds:
        _record_seed_versions(warehouse, seed_versions)
    summary = TransformSummary(
        cycle=cycle.id,
        warehouse=warehouse.describe(),
        cycles_rebuilt=rebuilt,
        full_refresh=full_refresh,
        seconds=round(time.perf_counter() - started, 2),
    )
    for result in results:
        kind, status = result["resource_type"], result["status"]
        if kind == "seed" and status == "success":
            summary.seeds_loaded += 1
        elif kind == "model" and status == "success":
            summary.models_built += 1
        elif kind == "test" and status == "pass":
            summary.tests_passed += 1
        elif kind == "unit_test" and status == "pass":
            summary.unit_tests_passed += 1
        elif status == "warn":
            summary.warnings.append(f"{kind} {result['name']}: {result['message']}")
    return summary


def docs(settings: Settings, output: Path | None = None) -> Path:
    """Write the dbt documentation of the warehouse (models, columns, lineage) for analysts:
    `static_index.html` opens in a browser without a server. Returns the folder
    (default `<reports>/dbt_docs`)."""
    warehouse = Warehouse(settings.warehouse)
    _ensure_sources(warehouse)
    output = (output or settings.reports / "dbt_docs").resolve()
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cycle-dbt-docs-") as target:
        _invoke(
            warehouse, ["docs", "generate", "--static"], "docs generate", target_path=Path(target)
        )
        for name in DOCS_FILES:
            shutil.copy2(Path(target) / name, output / name)
    return output


def _cycles_to_rebuild(warehouse: Warehouse, cycle: Cycle) -> list[str]:
    """The cycle, the next comparable one (compared with it), and any cycle ingested but
    never built (with its next comparable one), so that no cycle is left out of the marts."""
    wanted = [cycle]
    with warehouse.connect() as con:
        if con.table_exists("marts", "fct_return_status"):
            unbuilt = con.query(
                "select distinct cycle from raw.received_files where cycle not in "
                "(select distinct cycle from marts.fct_return_status)"
            )
            wanted += [Cycle.parse(str(row[0])) for row in unbuilt]
    ids: list[str] = []
    for c in sorted(set(wanted)):
        ids += [i for i in (c.id, next_comparable(c).id) if i not in ids]
    return ids


# -- seeds: reloaded only when their files change ----------------------------------------------
SEED_VERSIONS = "reference.seed_versions"
"""What the seeds were loaded from: (file name, sha256) of every seed file and its properties.
Loading the lookups takes seconds on PostgreSQL (dbt inserts them row by row from Python), so
a run skips them when nothing changed."""


def _seed_versions() -> dict[str, str]:
    folder = DBT_PROJECT_DIR / "seeds"
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(
            [*folder.glob("*.csv"), *folder.glob("*.yml"), DBT_PROJECT_DIR / "dbt_project.yml"]
        )
    }


def _loaded_seed_versions(warehouse: Warehouse) -> dict[str, str]:
    with warehouse.connect() as con:
        schema, table = SEED_VERSIONS.split(".")
        if not con.table_exists(schema, table):
            return {}
        seeds = [p.stem for p in (DBT_PROJECT_DIR / "seeds").glob("*.csv")]
        if not all(con.table_exists("reference", seed) for seed in seeds):
            return {}
        return {
            str(name): str(sha)
            for name, sha in con.query(f"select file_name, file_sha256 from {SEED_VERSIONS}")
        }


def _record_seed_versions(warehouse: Warehouse, versions: dict[str, str]) -> None:
    with warehouse.connect() as con, con.transaction():
        con.execute(
            f"create table if not exists {SEED_VERSIONS} "
            "(file_name varchar not null, file_sha256 varchar not null)"
        )
        con.execute(f"delete from {SEED_VERSIONS}")
        for name, sha in versions.items():
            con.execute(f"insert into {SEED_VERSIONS} values (?, ?)", [name, sha])


# -- running dbt ---------------------------------------------------------------------------------
def _ensure_sources(warehouse: Warehouse) -> None:
    """The raw layer and the quality layer dbt reads must exist, even before the first ingest
    or the first validation (`marts.fct_quality_issues` is a view over quality.findings)."""
    from expectations.findings import ensure_quality_layer
    from ingest.raw_layer import ensure_raw_layer

    with warehouse.connect() as con:
        ensure_raw_layer(con)
        ensure_quality_layer(con)


def _work_dir(warehouse: Warehouse) -> contextlib.AbstractContextManager[str]:
    """Where dbt writes its target and logs: beside a DuckDB file (one writer per file anyway,
    and partial parsing is kept between runs), else a fresh folder per run."""
    if warehouse.kind == "duckdb":
        folder = warehouse.path.parent / ".dbt" / warehouse.path.stem
        folder.mkdir(parents=True, exist_ok=True)
        return contextlib.nullcontext(str(folder))
    return tempfile.TemporaryDirectory(prefix="cycle-dbt-")


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _invoke(
    warehouse: Warehouse, args: list[str], command: str, target_path: Path | None = None
) -> list[dict[str, str]]:
    """Run a dbt command in this process; return one dict per node (name, resource_type,
    status, message) or raise TransformError."""
    from dbt.cli.main import dbtRunner

    env = {**warehouse.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    log_level = "info" if sys.stdout.isatty() else "warn"
    with _work_dir(warehouse) as work, _environment(env):
        full_args = [
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target_path or Path(work) / "target"),
            "--log-path",
            str(Path(work) / "logs"),
            "--log-level",
            log_level,
            "--log-level-file",
            "info",
        ]
        try:
            outcome = dbtRunner().invoke(full_args)
        finally:
            _close_duckdb_connections()
            _close_dbt_logs()
    nodes = _node_results(outcome.result)
    if not outcome.success:
        failed = [
            NodeFailure(n["resource_type"], n["name"], n["status"], n["message"])
            for n in nodes
            if n["status"] in ("error", "fail")
        ]
        detail = str(outcome.exception) if outcome.exception else ""
        if any("out of sync" in f.message for f in failed):
            detail = (
                "Cấu trúc bảng đã đổi: chạy lại với full_refresh / the models' columns "
                "changed: run again with full_refresh (cycle transform --full-refresh)"
            )
        raise TransformError(command, failed, detail)
    return nodes


def _node_results(result: Any) -> list[dict[str, str]]:
    nodes = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None:
            continue
        nodes.append(
            {
                "name": str(node.name),
                "resource_type": str(node.resource_type),
                "status": str(item.status),
                "message": " ".join(str(item.message or "").split())[:500],
            }
        )
    return nodes


def _close_dbt_logs() -> None:
    """dbt drops its log file handler without closing it when the next run sets up logging;
    close it now (and forget dbt's loggers) so that no file is left open between runs."""
    from dbt_common.events.event_manager_client import cleanup_event_logger, get_event_manager

    for dbt_logger in list(getattr(get_event_manager(), "loggers", [])):
        python_logger = getattr(dbt_logger, "_python_logger", None)
        if not isinstance(python_logger, logging.Logger):
            continue
        for handler in list(python_logger.handlers):
            if isinstance(handler, logging.FileHandler):
                handler.close()
                python_logger.removeHandler(handler)
    cleanup_event_logger()


def _close_duckdb_connections() -> None:
    """dbt-duckdb keeps the file open after a run; close it so that the same process can open
    the warehouse again (read-only or with another configuration)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]
    gc.collect()
