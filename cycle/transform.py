"""Build the warehouse's staging, intermediate and marts layers with dbt, in this process.

`run_transform` runs `dbt build` (models and data tests; seeds when their files changed; unit tests
on request) on the warehouse of the settings, rebuilding only what changed since the last
successful build. The build ledger (`core.ledger`, step "transform") holds the received files as
that build saw them; the returns received, superseded or rejected since then name the reporters,
hence the cycles and provinces, whose figures changed. The large facts are incremental: those
cycles (and the next comparable ones, whose comparisons depend on them) are deleted and rebuilt, in
the largest models only those provinces. Nothing changed: no build. Changed models, seeds or
reporting scope: the whole cycles. The first build of a warehouse, and `full_refresh=True`, build
every cycle. `docs` writes the dbt documentation for analysts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import ledger
from core.cycles import Cycle
from core.errors import UserError
from core.reference import PROJECT_ROOT
from core.settings import Settings
from core.warehouse import Warehouse, WarehouseConnection

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DOCS_FILES = ("static_index.html", "index.html", "manifest.json", "catalog.json")
"""What analysts need of `dbt docs generate`: the one-file page, and the site `dbt docs serve`
would show (index.html reads the two JSON files beside it)."""


@dataclass
class TransformSummary:
    cycle: str
    warehouse: str
    cycles_rebuilt: list[str]
    """The cycles deleted and rebuilt; empty when every cycle was built (or none was)."""
    full_refresh: bool
    provinces_rebuilt: list[str] | None = None
    """The provinces rebuilt in those cycles; None when every province was."""
    up_to_date: bool = False
    """Nothing changed since the last successful build: dbt did not run."""
    reason: str = ""
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


class TransformError(UserError):
    """dbt could not build the warehouse; `failures` names the models and tests that failed."""

    def __init__(self, command: str, failures: Sequence[NodeFailure], detail: str = "") -> None:
        self.command, self.detail = command, detail
        self.failures = list(failures)
        lines = [f"dbt {command} thất bại / dbt {command} failed"]
        if detail:
            lines.append(detail)
        lines += [f"  - {failure}" for failure in self.failures]
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[type[TransformError], tuple[str, list[NodeFailure], str]]:
        # `cycle run` transforms in a worker process and raises its errors in the run's own
        return (TransformError, (self.command, self.failures, self.detail))


def next_comparable(cycle: Cycle) -> Cycle:
    """The cycle whose previous comparable cycle is `cycle` (2024-H1 -> 2025-H1)."""
    return Cycle(cycle.year + 1, cycle.kind)


def run_transform(
    settings: Settings,
    cycle: Cycle,
    full_refresh: bool = False,
    *,
    unit_tests: bool = False,
    whole_cycle: bool = False,
) -> TransformSummary:
    """`dbt build` of what changed since the last successful build (module docstring): the
    changed cycles and the next comparable ones, in the largest models only the provinces whose
    returns changed; `whole_cycle=True` rebuilds `cycle` (and the next comparable one) whole
    even if nothing changed. Refreshes the small tables, reloads the seeds if their files
    changed, and runs every data test. Raises TransformError naming what failed.

    dbt's unit tests check the SQL's logic on fixed inputs, not the data: like dbt Labs
    advise, they run in development and CI (`unit_tests=True`), not on every production run."""
    warehouse = Warehouse(settings.warehouse)
    _ensure_sources(warehouse)
    seed_versions = _seed_versions()
    reload_seeds = full_refresh or _loaded_seed_versions(warehouse) != seed_versions
    plan = _plan_rebuild(
        warehouse, cycle, full_refresh=full_refresh, whole_cycle=whole_cycle or unit_tests
    )
    if reload_seeds and plan.provinces is not None:
        plan = dataclasses.replace(plan, provinces=None, reason="the lookups (seeds) changed")
    summary = TransformSummary(
        cycle=cycle.id,
        warehouse=warehouse.describe(),
        cycles_rebuilt=plan.cycles,
        full_refresh=full_refresh,
        provinces_rebuilt=plan.provinces,
        reason=plan.reason,
    )
    if plan.up_to_date and not reload_seeds:
        if plan.record:
            _record_build(warehouse, plan, built=False)
        summary.up_to_date = True
        return summary
    args = ["build"]
    rebuild: dict[str, list[str]] = {}
    if full_refresh:
        args.append("--full-refresh")
    else:
        # through the environment, not --vars: new vars make dbt re-parse the whole project
        rebuild["cycles"] = plan.cycles
        if plan.provinces is not None:
            rebuild["provinces"] = plan.provinces
            # Models, seeds and scope unchanged: only what the returns feed needs building
            # (views are live over their inputs: their unchanged SQL needs no re-creating), and
            # of the data tests the primary keys, which guard the delete-and-insert of the
            # provinces rebuilt; the column tests check SQL that did not change, and each
            # costs dbt ~50 ms whatever its rows (the next whole build runs them all).
            args += ["--select", *RETURNS_FEED]
            args += ["--exclude", "config.materialized:view", *_COLUMN_TESTS]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if not reload_seeds:
        args += ["--exclude-resource-type", "seed"]
    started = time.perf_counter()
    results = _invoke(warehouse, args, "build", env={"CYCLE_DBT_REBUILD": json.dumps(rebuild)})
    if reload_seeds:
        _record_seed_versions(warehouse, seed_versions)
    _record_build(warehouse, plan)
    summary.seconds = round(time.perf_counter() - started, 2)
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


BUILD_LOCK_TIMEOUT = "30s"
"""How long a PostgreSQL build waits for a lock held by another session (an analyst's open
query) before failing: rebuilds replace rows in place and need no lock that readers hold, so
only a full refresh, a column added or the seeds' reload can wait at all."""

PLANNER = "-c enable_nestloop=off"
"""dbt's tables have no indexes, so a nested loop rescans its inner table per outer row: when
PostgreSQL underestimates a join (the history self-join of int_element_values_history on a
late return), that is hours instead of seconds. Hash and merge joins only."""


def warm_up(settings: Settings) -> None:
    """Import dbt and parse the project for the settings' warehouse, ahead of `run_transform`
    in this process (`cycle run` does it while ingest runs): the first dbt command of a process
    pays for dbt's lazy imports and its first adapter set-up, and the parse refreshes the
    partial-parsing state the build then reads. Opens no connection (ingest may hold the DuckDB
    file); a failure is left for the build to report."""
    # what _ensure_sources needs (no pandas: the transform never loads a DataFrame)
    import core.signoffs  # noqa: F401
    import expectations.findings  # noqa: F401
    import ingest.raw_layer  # noqa: F401

    with contextlib.suppress(Exception):
        _run_dbt(Warehouse(settings.warehouse), ["parse"])


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


RETURNS_FEED = tuple(
    f"source:raw.{table}+" for table in ("received_files", "return_values", "rejected_rows")
)
"""What the returns feed: a province rebuild builds these (the scope's own models, like
dim_admin_units, wait for a scope change, which rebuilds whole cycles)."""

_COLUMN_TESTS = tuple(
    f"test_name:{name}"
    for name in (
        "not_null",
        "unique",
        "accepted_values",
        "relationships",
        "relationships_multi",
        "expression_is_true",
    )
)
"""The generic data tests a province rebuild leaves to whole builds (see run_transform)."""


def _unbuilt_cycles(con: WarehouseConnection) -> list[Cycle]:
    if not con.table_exists("marts", "fct_return_status"):
        return []
    unbuilt = con.query(
        "select distinct cycle from raw.received_files where cycle not in "
        "(select distinct cycle from marts.fct_return_status)"
    )
    return [Cycle.parse(str(row[0])) for row in unbuilt]


# -- the build ledger: what changed since the last successful build ------------------------------
# In core.ledger (step "transform"): per cycle, every received file as the last successful build
# saw it (item "file/<sha256>/<name>", digest "<status>/<reporter>"), the digests of the models
# and of the reporting scope (cycle '', items "input/..."), and when each province of a cycle was
# last built (items "province/<code>": what `cycle status` reads).
STEP = "transform"
_RECEIVED_SQL = (
    "select cycle, file_name, file_sha256, status, reporter_code from raw.received_files"
)

ReceivedFile = tuple[str, str, str, str, str | None]
"""(cycle, file name, sha256, status, reporter code) of a received file."""


@dataclass(frozen=True)
class RebuildPlan:
    """What a build deletes and rebuilds, and the raw state it is built from."""

    cycles: list[str]
    """Cycles to rebuild; empty on a full build (every cycle) or when nothing changed."""
    provinces: list[str] | None
    """Provinces to rebuild in those cycles (meta rebuild_by_province); None: every one."""
    received: frozenset[ReceivedFile]
    inputs: dict[str, str]
    reason: str = ""
    up_to_date: bool = False
    record: bool = False
    """Up to date, but the ledger must take in files that changed no figure."""
    first: bool = False
    """The first build: the tables are new, so every cycle is built whatever `cycles` says."""


def _plan_rebuild(
    warehouse: Warehouse, cycle: Cycle, *, full_refresh: bool, whole_cycle: bool
) -> RebuildPlan:
    """Compare the received files with the ledger of the last successful build.

    A changed reporter (a file received, superseded or rejected since) changes its cycle,
    hence that cycle and the next comparable ones, in its province only: every figure, roll-up
    and check of a province is computed from that province's communes and agencies. Files
    without a reporter code change no figure. A reporter the last build did not expect, a
    changed reporting scope, changed models or a cycle never built: the whole cycles."""
    with warehouse.connect() as con:
        received = frozenset(_received_files(con.query(_RECEIVED_SQL)))
        inputs = {"project": _project_digest(), "scope": _scope_digest(con)}
        built = con.table_exists("marts", "fct_return_status")
        last = _ledger(con) if built else None
        unbuilt = _unbuilt_cycles(con)
        changed = received ^ last[0] if last else frozenset()
        changed_cycles = sorted({Cycle.parse(row[0]) for row in changed})
        reporters = {(row[0], row[4]) for row in changed if row[4]}
        provinces = _provinces_of(con, reporters) if last and reporters else []
    if full_refresh:
        return RebuildPlan([], None, received, inputs, "full refresh")
    if last is None:
        cycles = _with_next_comparable([cycle, *unbuilt])
        why = "no earlier build recorded"
        return RebuildPlan(cycles, None, received, inputs, why, first=not built)
    if whole_cycle or last[1] != inputs:
        cycles = _with_next_comparable([cycle, *changed_cycles, *unbuilt])
        reason = "whole cycle requested" if whole_cycle else "models or reporting scope changed"
        return RebuildPlan(cycles, None, received, inputs, reason)
    if not changed and not unbuilt:
        return RebuildPlan([], None, received, inputs, "nothing changed", up_to_date=True)
    if provinces == [] and not unbuilt:
        # only files without a reporter code: rejected, they change no figure
        why = "no figure changed"
        return RebuildPlan([], None, received, inputs, why, up_to_date=True, record=True)
    cycles = _with_next_comparable([*changed_cycles, *unbuilt])
    if unbuilt:
        return RebuildPlan(cycles, None, received, inputs, "a cycle never built")
    if provinces is None:
        return RebuildPlan(cycles, None, received, inputs, "a reporter not expected before")
    return RebuildPlan(cycles, provinces, received, inputs, "returns changed")


def _with_next_comparable(cycles: Sequence[Cycle]) -> list[str]:
    ids: list[str] = []
    for c in sorted(set(cycles)):
        ids += [i for i in (c.id, next_comparable(c).id) if i not in ids]
    return ids


def _received_files(rows: Sequence[Sequence[object]]) -> Iterator[ReceivedFile]:
    for cycle, name, sha, status, reporter in rows:
        yield (
            str(cycle),
            str(name),
            str(sha),
            str(status),
            None if reporter is None else str(reporter),
        )


def _ledger(con: WarehouseConnection) -> tuple[frozenset[ReceivedFile], dict[str, str]] | None:
    inputs = {
        item.removeprefix("input/"): entry.digest
        for (_, item), entry in ledger.recorded_every_cycle(con, STEP, "input/").items()
    }
    if not inputs:
        return None
    files = ledger.recorded_every_cycle(con, STEP, "file/")
    received = (_file_of(cycle, item, entry.digest) for (cycle, item), entry in files.items())
    return frozenset(received), inputs


def _file_item(row: ReceivedFile) -> ledger.Entry:
    _, name, sha, status, reporter = row
    return ledger.Entry(f"file/{sha}/{name}", f"{status}/{reporter or ''}")


def _file_of(cycle: str, item: str, digest: str) -> ReceivedFile:
    sha, name = item.removeprefix("file/").split("/", 1)
    status, reporter = digest.split("/", 1)
    return (cycle, name, sha, status, reporter or None)


def _provinces_of(con: WarehouseConnection, reporters: set[tuple[str, str]]) -> list[str] | None:
    """The provinces of these (cycle, reporter) pairs as the last build expected them; None if
    one of them was not expected."""
    if not reporters:
        return []
    found: dict[tuple[str, str], str] = {}
    cycles = sorted({c for c, _ in reporters})
    marks = ", ".join("?" for _ in cycles)
    for c, reporter, province in con.query(
        "select cycle, reporter_code, province_code from marts.fct_return_status "
        f"where cycle in ({marks})",
        cycles,
    ):
        found[(str(c), str(reporter))] = str(province)
    if not reporters <= found.keys():
        return None
    return sorted({found[pair] for pair in reporters})


def _project_digest() -> str:
    """The dbt project's models, macros, tests and settings: changing them can change any row."""
    digest = hashlib.sha256()
    for folder in ("models", "macros", "tests"):
        for path in sorted((DBT_PROJECT_DIR / folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode())
                digest.update(path.read_bytes())
    digest.update((DBT_PROJECT_DIR / "dbt_project.yml").read_bytes())
    return digest.hexdigest()


def _scope_digest(con: WarehouseConnection) -> str:
    rows = sorted(
        (str(h), str(u))
        for h, u in con.query("select hierarchy, unit_code from raw.reporting_scope")
    )
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _record_build(warehouse: Warehouse, plan: RebuildPlan, built: bool = True) -> None:
    """After a successful build: the raw state it was built from becomes the ledger, and the
    provinces it rebuilt are recorded as built now."""
    by_cycle: dict[str, list[ledger.Entry]] = {}
    for row in plan.received:
        by_cycle.setdefault(row[0], []).append(_file_item(row))
    with warehouse.connect() as con, con.transaction():
        provinces = _provinces_built(con, plan) if built else []
        ledger.reset(con, STEP, prefix="file/")
        ledger.reset(con, STEP, prefix="input/")
        for cycle_id, entries in sorted(by_cycle.items()):
            ledger.record(con, STEP, cycle_id, entries, append=True)
        inputs = [ledger.Entry(f"input/{k}", v) for k, v in sorted(plan.inputs.items())]
        ledger.record(con, STEP, "", inputs, append=True)
        for cycle_id, province in provinces:
            ledger.record(con, STEP, cycle_id, [ledger.Entry(f"province/{province}", plan.reason)])


def _provinces_built(con: WarehouseConnection, plan: RebuildPlan) -> list[tuple[str, str]]:
    """The (cycle, province) pairs a build rebuilt: the plan's, or every province of its cycles
    (of every cycle on a full or first build: `cycle status` and sign-off read them)."""
    rows = con.query(
        "select distinct cycle, province_code from marts.fct_return_status "
        "where province_code is not null"
    )
    cycles = set() if plan.first else set(plan.cycles)
    return sorted(
        (str(c), str(p))
        for c, p in rows
        if (not cycles or c in cycles) and (plan.provinces is None or p in plan.provinces)
    )


# -- seeds: reloaded only when their files change ----------------------------------------------
# In core.ledger (step "seeds", cycle ''): (file name, sha256) of every seed file and its
# properties. Loading the lookups takes seconds on PostgreSQL (dbt inserts them row by row from
# Python), so a run skips them when nothing changed.
SEEDS_STEP = "seeds"


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
        seeds = [p.stem for p in (DBT_PROJECT_DIR / "seeds").glob("*.csv")]
        if not all(con.table_exists("reference", seed) for seed in seeds):
            return {}
        return {name: e.digest for name, e in ledger.recorded(con, SEEDS_STEP, "").items()}


def _record_seed_versions(warehouse: Warehouse, versions: dict[str, str]) -> None:
    with warehouse.connect() as con, con.transaction():
        ledger.reset(con, SEEDS_STEP)
        entries = [ledger.Entry(name, sha) for name, sha in versions.items()]
        ledger.record(con, SEEDS_STEP, "", entries, append=True)


# -- running dbt ---------------------------------------------------------------------------------
def _ensure_sources(warehouse: Warehouse) -> None:
    """The raw layer, the quality layer and the steps' ledger dbt reads must exist, even before
    the first ingest or the first validation (`marts.fct_quality_issues` is a view over
    quality.findings, `marts.fct_cycle_states` over the ledger, the sign-off marts over the
    sign-off tables)."""
    from core.signoffs import ensure_signoff_tables
    from expectations.findings import ensure_quality_layer
    from ingest.raw_layer import ensure_raw_layer

    with warehouse.connect() as con:
        ensure_raw_layer(con)
        ensure_quality_layer(con)
        ledger.ensure_ledger(con)
        ensure_signoff_tables(con)


def _work_dir(warehouse: Warehouse) -> Path:
    """Where dbt writes its target (with the partial-parsing state, kept between runs) and its
    log: beside a DuckDB file, else in the user's cache, one folder per warehouse (one writer
    per warehouse: the warehouse lock)."""
    if warehouse.kind == "duckdb":
        folder = warehouse.path.parent / ".dbt" / warehouse.path.stem
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(warehouse.describe().encode()).hexdigest()[:16]
    try:
        (cache / "cycle" / "dbt" / key).mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable home: a fresh folder (a full parse) per command
        return Path(tempfile.mkdtemp(prefix="cycle-dbt-"))
    return cache / "cycle" / "dbt" / key


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
    warehouse: Warehouse,
    args: list[str],
    command: str,
    target_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> list[dict[str, str]]:
    """Run a dbt command in this process; return one dict per node (name, resource_type,
    status, message) or raise TransformError."""
    outcome = _run_dbt(warehouse, args, target_path, env)
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


_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def _run_dbt(
    warehouse: Warehouse,
    args: list[str],
    target_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> Any:
    """dbt's outcome (a dbtRunnerResult) of a command run in this process.

    dbt's own log file is off (`--log-level-file none`: dbt never closes it, so a long-lived
    process would leak one open file per run); its events at info and above go to
    `<work dir>/logs/dbt.log` through dbtRunner's callbacks instead, closed when the command
    ends. dbt-duckdb keeps the DuckDB file open after a command; the call its maintainer gives
    for programmatic invocations (duckdb/dbt-duckdb#616) closes it, so that this process can
    open it again (read-only, or through GX). The profile's `keep_open: false` would too, but
    it closes and reopens the file between nodes: +3-9 s per late-return build, measured."""
    from dbt.cli.main import dbtRunner

    env = {
        **warehouse.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "CYCLE_DBT_REBUILD": "{}",
        **(env or {}),
    }
    if warehouse.kind == "postgres":
        # dbt's sessions (libpq reads PGOPTIONS): a statement waiting on an analyst's lock
        # fails after BUILD_LOCK_TIMEOUT instead of queueing every other reader behind it, and
        # a query whose client died (a killed run) stops instead of holding its locks.
        options = (
            f"-c lock_timeout={BUILD_LOCK_TIMEOUT} -c client_connection_check_interval=2s "
            + PLANNER
        )
        env["PGOPTIONS"] = " ".join(filter(None, [os.environ.get("PGOPTIONS"), options]))
    log_level = "info" if sys.stdout.isatty() else "warn"
    work = _work_dir(warehouse)
    (work / "logs").mkdir(exist_ok=True)
    full_args = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path or work / "target"),
        "--log-path",
        str(work / "logs"),
        "--log-level",
        log_level,
        "--log-level-file",
        "none",
        # the results come back in memory; writing manifest.json (1.5 MB) costs a second
        *(["--no-write-json"] if target_path is None else []),
    ]
    with (
        _environment(env),
        (work / "logs" / "dbt.log").open("w", encoding="utf-8", buffering=1) as log,
    ):

        def write(event: Any) -> None:
            if event.info.level in ("info", "warn", "error"):
                text = _COLOURS.sub("", event.info.msg)
                log.write(f"{event.info.ts.ToDatetime():%H:%M:%S} {text}\n")

        try:
            return dbtRunner(callbacks=[write]).invoke(full_args)
        finally:
            if warehouse.kind == "duckdb":
                from dbt.adapters.duckdb.connections import DuckDBConnectionManager

                DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]


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
