"""A validation re-run validates only the provinces whose check rows changed
(expectations/runner.py) and leaves exactly what validating the whole cycle leaves."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from cycle.transform import run_transform
from expectations import run_validation
from tests.transform.conftest import BuiltWarehouse, copy_built, read
from tests.transform.test_quality_tables import late_return

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

CYCLE = Cycle.parse("2022-Y")


def quality_tables(built: BuiltWarehouse) -> dict[str, pd.DataFrame]:
    where = f"where cycle = '{CYCLE.id}'"
    return {
        "findings": read(built.settings, f"select * from quality.findings {where} order by 2, 1")
        .drop(columns="run_key")
        .sort_values("finding_key", ignore_index=True),
        "runs": read(
            built.settings, f"select * from quality.validation_runs {where} order by suite"
        ).drop(columns=["run_at", "data_docs_index"]),
        "slices": read(
            built.settings,
            f"select * from quality.validation_slices {where} order by 2, 3, 4",
        ),
    }


def test_a_late_return_revalidates_its_province_as_a_whole_validation_would(
    built_copy: BuiltWarehouse, tmp_path: Path
) -> None:
    first = run_validation(built_copy.settings, CYCLE)
    assert first.provinces_validated is None  # the first validation: the whole cycle
    docs = first.data_docs_index
    assert docs is not None and docs.is_file()
    docs_written = docs.stat().st_mtime_ns

    again = run_validation(built_copy.settings, CYCLE)
    assert again.provinces_validated == ()  # nothing changed: GX does not run
    assert again.counts == first.counts and again.suites == first.suites
    assert docs.stat().st_mtime_ns == docs_written

    late = late_return(built_copy, CYCLE.id)
    run_transform(built_copy.settings, CYCLE)
    whole = copy_built(built_copy, tmp_path / "whole")
    scoped = run_validation(built_copy.settings, CYCLE)
    expected = run_validation(whole.settings, CYCLE, whole_cycle=True)

    province = read(
        built_copy.settings,
        f"select province_code from marts.fct_return_status where reporter_code = '{late}' "
        f"and cycle = '{CYCLE.id}'",
    )["province_code"].tolist()
    assert scoped.provinces_validated == tuple(province)
    assert expected.provinces_validated is None
    assert scoped.counts == expected.counts and scoped.suites == expected.suites
    assert (
        scoped.count("completeness.missing_return")
        == first.count("completeness.missing_return") - 1
    )  # the late commune's return is no longer missing
    got, want = quality_tables(built_copy), quality_tables(whole)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)


def test_changed_suites_validate_the_whole_cycle(
    built_copy: BuiltWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expectations import runner

    run_validation(built_copy.settings, CYCLE)
    monkeypatch.setattr(runner, "_code_digest", lambda: "suites edited")
    assert run_validation(built_copy.settings, CYCLE).provinces_validated is None
