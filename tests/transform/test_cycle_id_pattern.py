"""One cycle-id pattern: core.cycles' (the DAG imports it); the dbt macro's copy must match."""

from __future__ import annotations

import re

from core.cycles import CYCLE_ID_PATTERN
from cycle.transform import DBT_PROJECT_DIR


def test_the_dbt_macro_checks_cycle_ids_with_the_python_pattern() -> None:
    macro = (DBT_PROJECT_DIR / "macros" / "cycles.sql").read_text(encoding="utf-8")
    patterns = re.findall(r"requested_list\('cycles', '([^']*)'", macro)
    assert patterns == [CYCLE_ID_PATTERN]
