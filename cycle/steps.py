"""The steps of a reporting cycle. The CLI and the Airflow DAG call these functions, and only
these: there is one code path."""

from __future__ import annotations

from core.cycles import Cycle
from core.settings import Settings
from cycle.progress import progress_bar
from ingest.pipeline import IngestSummary, ingest_cycle


def ingest(settings: Settings, cycle: Cycle) -> IngestSummary:
    """Load `<inbox>/<cycle>/` into the raw layer (idempotent)."""
    with progress_bar(f"Ingest {cycle.id}") as (advance, set_total):
        return ingest_cycle(settings, cycle, progress=advance, on_total=set_total)
