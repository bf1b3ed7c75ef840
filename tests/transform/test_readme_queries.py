"""The README's example queries for analysts run on the built warehouse."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tests.transform.conftest import BuiltWarehouse, read


def readme_queries() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.strip().rstrip(";") for block in re.findall(r"```sql\n(.*?)```", text, re.S)]


def test_the_readme_has_four_example_queries() -> None:
    """Three on the marts, and what was signed (the sign-off section)."""
    assert len(readme_queries()) == 4


@pytest.mark.parametrize("index", range(4))
def test_readme_query_runs_on_duckdb(built: BuiltWarehouse, index: int) -> None:
    query = readme_queries()[index]
    frame = read(built.settings, query)
    assert len(frame.columns) >= 5
