"""`write_reports`: every district and province of the cycle, the country, and an index."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_support import CYCLE, POST_CYCLE, settings_for

from core.cycles import Cycle
from reports import render
from reports.render import NoReportData, ReportSummary, write_reports

pytestmark = pytest.mark.xdist_group("reports")


def test_every_unit_gets_an_xlsx_and_an_html(rendered: ReportSummary) -> None:
    assert rendered.counts == {"district": 7, "province": 1, "country": 1}
    assert rendered.directory.name == CYCLE.id
    names = sorted(p.name for p in rendered.directory.iterdir() if not p.name.startswith("."))
    assert names == sorted(path.name for path in rendered.files)
    assert "district_584_huyen-bac-ai.xlsx" in names
    assert "district_582_thanh-pho-phan-rang-thap-cham.html" in names
    assert "province_58_tinh-ninh-thuan.html" in names
    assert {"country.xlsx", "country.html", "index.html"} <= set(names)
    assert all(path.stat().st_size > 0 for path in rendered.files)


def test_rerun_rewrites_the_same_files_and_drops_stale_ones(
    tmp_path: Path, warehouse: Path
) -> None:
    settings = settings_for(warehouse, tmp_path / "reports")
    first = write_reports(settings, CYCLE)
    folder = first.directory
    stale = folder / "district_999_huyen-cu.html"
    stale.write_text("old")
    mine = folder / "ghi-chu.txt"
    mine.write_text("not ours")
    before = {path.name: path.read_bytes() for path in first.files}

    again = write_reports(settings, CYCLE)
    assert again.removed == [stale]
    assert not stale.exists() and mine.exists()
    assert {path.name: path.read_bytes() for path in again.files} == before
    assert not list(folder.glob(".*.tmp"))


def test_worker_processes_write_what_one_process_writes(
    tmp_path: Path, warehouse: Path, rendered: ReportSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "IN_PROCESS_BELOW", 0)
    pooled = write_reports(settings_for(warehouse, tmp_path / "reports"), CYCLE, workers=2)
    assert [(r.level, r.code) for r in pooled.reports] == [
        (r.level, r.code) for r in rendered.reports
    ]
    for path in rendered.files:
        assert (pooled.directory / path.name).read_bytes() == path.read_bytes(), path.name


def test_post_reform_cycle_has_provinces_only(tmp_path: Path, post_warehouse: Path) -> None:
    summary = write_reports(settings_for(post_warehouse, tmp_path / "reports"), POST_CYCLE)
    assert summary.counts == {"district": 0, "province": 1, "country": 1}
    assert (summary.directory / "province_12_tinh-lai-chau.xlsx").exists()


def test_a_cycle_without_figures_fails_clearly(tmp_path: Path, warehouse: Path) -> None:
    with pytest.raises(NoReportData, match="2022-Y"):
        write_reports(settings_for(warehouse, tmp_path / "reports"), Cycle.parse("2022-Y"))
    assert not (tmp_path / "reports" / "2022-Y").exists()


def test_a_rerun_renders_only_the_reports_whose_content_changed(
    tmp_path: Path, warehouse: Path
) -> None:
    import shutil

    import duckdb

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(warehouse, copy)
    settings = settings_for(copy, tmp_path / "reports")
    first = write_reports(settings, CYCLE)
    assert first.unchanged == 0
    again = write_reports(settings, CYCLE)
    assert again.unchanged == len(again.reports)

    # A late return changes one district's figures: its report, its province's and the
    # country's are rendered again; the other districts' are left as they were.
    district = next(r for r in first.reports if r.level == "district")
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "update marts.fct_indicator_values set value = value + 1 "
            "where cycle = ? and unit_code = ? and unit_level = 'district'",
            [CYCLE.id, district.code],
        )
    mtimes = {p.name: p.stat().st_mtime_ns for p in first.files}
    third = write_reports(settings, CYCLE)
    changed = {p.name for p in third.files if p.stat().st_mtime_ns != mtimes[p.name]}
    assert district.html.name in changed and "index.html" in changed
    assert third.unchanged == len(third.reports) - len(
        {p.name for p in third.files if p.suffix == ".html" and p.name in changed} - {"index.html"}
    )
    assert third.unchanged >= len(third.reports) - 3


def test_the_reports_folder_has_an_index_of_cycles(rendered: ReportSummary) -> None:
    top = rendered.directory.parent / "index.html"
    html = top.read_text(encoding="utf-8")
    assert f'href="{CYCLE.id}/index.html"' in html and "Consolidated reports by cycle" in html
