"""Data-quality checks: Great Expectations suites (JSON in `expectations/suites/`) run against
the check-ready tables dbt builds; findings land in `quality.findings`.

GX itself is imported only when a validation runs (it takes ~6 s to import), and pandas only
when the runner is used: the transform step imports `expectations.findings` for its tables'
DDL and has no use for either.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from expectations.runner import CheckTableError, ValidationSummary, run_validation
    from expectations.suites import Suite, load_suites

__all__ = ["CheckTableError", "Suite", "ValidationSummary", "load_suites", "run_validation"]
_HOME = {
    "CheckTableError": "expectations.runner",
    "ValidationSummary": "expectations.runner",
    "run_validation": "expectations.runner",
    "Suite": "expectations.suites",
    "load_suites": "expectations.suites",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")
