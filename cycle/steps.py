"""The steps of a reporting cycle. The CLI and the Airflow DAG call these functions, and only
these: there is one code path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.cycles import Cycle
from core.settings import Settings
from cycle.progress import progress_bar
from ingest.pipeline import IngestSummary, ingest_cycle


def ingest(settings: Settings, cycle: Cycle) -> IngestSummary:
    """Load `<inbox>/<cycle>/` into the raw layer (idempotent)."""
    with progress_bar(f"Ingest {cycle.id}") as (advance, set_total):
        return ingest_cycle(settings, cycle, progress=advance, on_total=set_total)


@dataclass
class RunSummary:
    cycles: list[str]
    ingests: list[IngestSummary] = field(default_factory=list)


def run(settings: Settings, cycles: Sequence[Cycle], demo: bool = False) -> RunSummary:
    """A whole cycle (or several): ingest -> transform -> validate -> report -> alert.

    Every step is idempotent, so a run can be repeated after a late return."""
    summary = RunSummary([c.id for c in cycles])
    for cycle in cycles:
        summary.ingests.append(ingest(settings, cycle))
    return summary
