"""The README's example queries for analysts run on the built warehouse."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tests.transform.conftest import BuiltWarehouse, read


def readme_queries() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.strip().rstrip(";") for block in re.findall(r"```sql\n(.*?)```", text, re.S)]


def readme_query(about: str) -> str:
    """The README's example query whose text mentions `about` (a table or a phrase)."""
    (query,) = [q for q in readme_queries() if about in q]
    return query


def test_the_readme_has_six_example_queries() -> None:
    """On the marts, which target a row used, a new province's series, and what was signed
    (the sign-off section)."""
    assert len(readme_queries()) == 6


@pytest.mark.parametrize("index", range(6))
def test_readme_query_runs_on_duckdb(built: BuiltWarehouse, index: int) -> None:
    query = readme_queries()[index]
    frame = read(built.settings, query)
    assert len(frame.columns) >= 5


def test_the_series_of_a_new_province_has_a_row_per_cycle_across_the_reform(
    built: BuiltWarehouse,
) -> None:
    series = read(built.settings, readme_query("marts.fct_indicator_series"))
    assert series[["cycle", "series_basis"]].values.tolist() == [
        ["2022-Y", "carried_across_reform"],
        ["2023-Y", "carried_across_reform"],
        ["2024-Y", "carried_across_reform"],
        ["2025-Y", "as_reported"],
    ]
    assert series["value"].notna().all()
    # 2025-Y is compared with 2024-Y carried onto the same province
    assert series["previous_value"].tolist()[1:] == series["value"].tolist()[:-1]
