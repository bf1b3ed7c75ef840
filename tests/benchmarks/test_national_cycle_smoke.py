"""The national-cycle benchmark runs end to end on one province (a smoke test: figures are
printed, never asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("benchmark")]


def test_the_benchmark_runs_on_one_province(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location(
        "national_cycle", ROOT / "benchmarks" / "national_cycle.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["national_cycle"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    code = module.main(
        ["--provinces", "12", "--baseline-sample", "20", "--workdir", str(tmp_path / "b")]
    )
    out = capsys.readouterr().out
    assert code == 0
    for figure in (
        "returns/s",
        "seconds per step: ingest",
        "peak memory",
        "warehouse size",
        "again after one late return",
        "Baseline (pandas + openpyxl",
        "x the baseline",
        "Whole cycle against the baseline's reading time",
        "Re-run after one late return against the whole cycle",
    ):
        assert figure in out, figure
