"""The command line of issue 2: check, template, ingest (run as a user would, through click)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cycle.cli import main
from tests.conftest import write_xlsx


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_check_explains_every_planted_problem(demo_inbox: Path) -> None:
    planted = json.loads((demo_inbox / "planted.json").read_text(encoding="utf-8"))["planted"]
    with_reason = [p for p in planted if p["ingest_reason"]]
    assert len({p["ingest_reason"] for p in with_reason}) >= 10
    files = sorted({str(demo_inbox / p["cycle"] / p["file_name"]) for p in with_reason})
    code, output = run("check", *files)
    assert code == 1
    for p in with_reason:
        lines = [line for line in output.splitlines() if line.strip().startswith(p["file_name"])]
        assert any(f"[{p['ingest_reason']}]" in line for line in lines), (p, lines)
    # every problem line carries both languages
    problem_lines = [line for line in output.splitlines() if "[" in line and "]" in line]
    assert problem_lines and all(" / " in line for line in problem_lines)


def test_check_accepts_clean_files(demo_inbox: Path) -> None:
    planted = json.loads((demo_inbox / "planted.json").read_text(encoding="utf-8"))["planted"]
    touched = {p["file_name"] for p in planted}
    clean = [p for p in sorted((demo_inbox / "2024-Y").iterdir()) if p.name not in touched][:5]
    code, output = run("check", *map(str, clean))
    assert code == 0, output
    assert "5 tệp / files checked, 0 có vấn đề / with problems" in output


def test_template_round_trip(tmp_path: Path) -> None:
    target = tmp_path / "tpl.xlsx"
    code, output = run("template", "402-health", "2024-Y", "-o", str(target))
    assert code == 0 and "16 " not in output and target.exists()
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(target))
    info = dict(tuple(r[:2]) for r in book.get_sheet_by_name("ThongTin").to_python())
    rows = book.get_sheet_by_name("SoLieu").to_python()
    assert info["cycle"] == "2024-Y" and info["reporter_code"] == "402-health"
    assert rows[0][:4] == ["unit_code", "element_code", "element_name", "value"]
    assert len(rows) - 1 == 16 * 14  # 16 communes of Như Xuân x 14 health elements
    assert {r[0] for r in rows[1:]} >= {"16204"}
    # Blank, it is refused; filled in (by the officer, here by a test), it is accepted.
    code, _ = run("check", str(target))
    assert code == 1
    filled = write_xlsx(
        tmp_path / "filled.xlsx",
        list(info.items()),
        [(r[0], r[1], r[2], 10 + i) for i, r in enumerate(rows[1:])],
    )
    code, output = run("check", str(filled))
    assert code == 0, output


def test_template_refuses_an_unknown_reporter(tmp_path: Path) -> None:
    code, output = run("template", "16204", "2025-Y", "-o", str(tmp_path / "x.xlsx"))
    assert code == 2 and "names no commune" in output


def test_ingest_prints_a_summary_and_is_idempotent(
    tmp_path: Path, demo_inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run("ingest", "2023-Y", "--inbox", str(demo_inbox))
    assert code == 0
    assert "loaded" in output and "rejected" in output and "superseded" in output
    assert str(tmp_path / "data" / "warehouse" / "warehouse.duckdb") in output
    code, output = run("ingest", "2023-Y", "--inbox", str(demo_inbox))
    assert "new 0" in output


def test_a_bad_cycle_id_is_a_usage_error() -> None:
    code, output = run("ingest", "2024-H3")
    assert code == 2 and "YYYY-H1" in output
