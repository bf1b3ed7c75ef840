"""Data-quality checks: Great Expectations suites (JSON in `expectations/suites/`) run against
the check-ready tables dbt builds; findings land in `quality.findings`.

GX itself is imported only when a validation runs (it takes ~6 s to import).
"""

from expectations.runner import CheckTableError, ValidationSummary, run_validation
from expectations.suites import Suite, load_suites

__all__ = ["CheckTableError", "Suite", "ValidationSummary", "load_suites", "run_validation"]
