"""Great Expectations, kept at arm's length: imported lazily (it takes ~6 s), quiet (no INFO
chatter, no progress bars, no warnings left behind), run on pandas DataFrames we read ourselves.

Why DataFrames: GX's SQL datasource on DuckDB silently returns wrong results (duckdb-engine
loses the rows when GX closes the connection before fetching), so the warehouse is read through
our own connection on both backends and GX only sees frames.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from expectations.offline_docs import make_offline
from expectations.suites import Suite

# GX 1.24 imports the stdlib's deprecated sre_constants/sre_parse; nothing else warns on import.
_IMPORT_WARNINGS = r"module 'sre_(constants|parse)' is deprecated"

DATA_DOCS_ENTRIES = ("index.html", "expectations", "validations", "static")
"""What a GX site writes; removed before a rebuild so a folder shows one run only."""


@cache
def import_gx() -> ModuleType:
    """`great_expectations`, imported once per process without noise."""
    # Before the import: GX logs ~200 INFO lines while registering (visible under Airflow).
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    showwarning = warnings.showwarning
    captured_before = getattr(logging, "_warnings_showwarning", None) is not None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_IMPORT_WARNINGS, category=DeprecationWarning)
        import great_expectations as gx
    # Several GX modules call logging.captureWarnings(True) at import, rerouting every warning
    # of the process into logging. Undo it unless the host had asked for it already (resetting
    # logging's state too, or a later captureWarnings(True) by the host would do nothing).
    if not captured_before:
        logging.captureWarnings(False)
    warnings.showwarning = showwarning
    return gx


@dataclass(frozen=True)
class ExpectationOutcome:
    """What GX said about one expectation (one rule) of a suite."""

    rule_index: int
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_keys: pd.DataFrame
    """The id columns of every failing row (all of them: result format COMPLETE)."""


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    success: bool
    outcomes: tuple[ExpectationOutcome, ...]
    evaluated_expectations: int
    failed_expectations: int


@dataclass
class GxRun:
    """One GX context for one validation run."""

    run_name: str
    data_docs_dir: Path | None
    context: Any = None
    _run_time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def validate(self, suite: Suite, frame: pd.DataFrame) -> SuiteOutcome:
        gx = import_gx()
        context = self.context
        gx_suite = context.suites.add(suite.to_gx())
        source = context.data_sources.add_pandas(f"warehouse_{suite.name}")
        batch = source.add_dataframe_asset(suite.table).add_batch_definition_whole_dataframe(
            "cycle"
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=suite.name,
                validation_definitions=[definition],
                actions=[],
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": list(suite.id_columns),
                    # The query string lists every failing index: large and unused.
                    "return_unexpected_index_query": False,
                },
            )
        )
        result = checkpoint.run(
            batch_parameters={"dataframe": frame},
            run_id=gx.RunIdentifier(run_name=self.run_name, run_time=self._run_time),
        )
        (validation,) = result.run_results.values()
        outcomes = []
        for item in validation.results:
            info = item.exception_info or {}
            if info.get("raised_exception"):
                # A rule that crashed would otherwise count as "failed, no rows": say so.
                raise RuntimeError(
                    f"GX could not evaluate {item.expectation_config.type} of suite "
                    f"{suite.name}: {info.get('exception_message')}"
                )
            data = item.result or {}
            outcomes.append(
                ExpectationOutcome(
                    rule_index=int(item.expectation_config.meta["rule_index"]),
                    success=bool(item.success),
                    element_count=int(data.get("element_count") or 0),
                    unexpected_count=int(data.get("unexpected_count") or 0),
                    unexpected_keys=unexpected_keys(
                        data.get("unexpected_index_list"), suite.id_columns
                    ),
                )
            )
        stats = validation.statistics
        return SuiteOutcome(
            suite=suite.name,
            success=bool(validation.success),
            outcomes=tuple(sorted(outcomes, key=lambda o: o.rule_index)),
            evaluated_expectations=int(stats["evaluated_expectations"]),
            failed_expectations=int(stats["unsuccessful_expectations"]),
        )

    def build_data_docs(self) -> Path | None:
        """Write the Data Docs site of this run; return its index page."""
        if self.data_docs_dir is None:
            return None
        target = self.data_docs_dir
        target.mkdir(parents=True, exist_ok=True)
        for entry in DATA_DOCS_ENTRIES:
            path = target / entry
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        self.context.build_data_docs(site_names=["local_site"])
        make_offline(target)  # GX's pages load their scripts and styles from CDNs
        return target / "index.html"


@contextlib.contextmanager
def gx_run(run_name: str, data_docs_dir: Path | None) -> Iterator[GxRun]:
    """A throwaway in-memory GX context (suites come from git, results go to our own tables)
    whose Data Docs site writes to `data_docs_dir`. A file context would only add YAML and
    JSON writes on every object added (~0.4 s per run) and a folder to clean up."""
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if data_docs_dir is not None:
        site = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(data_docs_dir.resolve()),
            },
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "view": _view("CachedJinjaIndexPageView"),
            },
            # Merged into GX's default sections: only their views change.
            "site_section_builders": {
                section: {"view": _view("CachedJinjaPageView")}
                for section in ("expectations", "validations", "profiling")
            },
        }
        if "local_site" in context.list_data_docs_sites():
            context.update_data_docs_site("local_site", site)
        else:
            context.add_data_docs_site("local_site", site)
    yield GxRun(run_name=run_name, data_docs_dir=data_docs_dir, context=context)


def _view(class_name: str) -> dict[str, str]:
    """A Data Docs view of `expectations.gx_views` (GX's own, with templates compiled once)."""
    return {"module_name": "expectations.gx_views", "class_name": class_name}


def unexpected_keys(index_list: Any, id_columns: Sequence[str]) -> pd.DataFrame:
    """The id columns of the failing rows from GX's `unexpected_index_list`, which comes either
    as one dict per row or (with unexpected values excluded) as one dict of columns."""
    columns = list(id_columns)
    if not index_list:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    if isinstance(index_list, dict):
        frame = pd.DataFrame({c: list(index_list[c]) for c in columns})
    elif len(index_list) == 1 and all(isinstance(v, list) for v in index_list[0].values()):
        frame = pd.DataFrame({c: list(index_list[0][c]) for c in columns})
    else:
        frame = pd.DataFrame([{c: row[c] for c in columns} for row in index_list], columns=columns)
    return frame.astype(object)
