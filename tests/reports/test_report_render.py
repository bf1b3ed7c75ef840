"""`write_reports`: every district and province of the cycle, the country, and an index."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from report_support import CYCLE, POST_CYCLE, Planted, report_path, settings_for

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
    tmp_path: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "IN_PROCESS_BELOW", 0)
    pooled = write_reports(settings_for(warehouse, tmp_path / "reports"), CYCLE, workers=2)
    alone = write_reports(settings_for(warehouse, tmp_path / "alone"), CYCLE, workers=1)
    assert [(r.level, r.code) for r in pooled.reports] == [(r.level, r.code) for r in alone.reports]
    for path in alone.files:
        assert (pooled.directory / path.name).read_bytes() == path.read_bytes(), path.name


def test_post_reform_cycle_has_provinces_only(tmp_path: Path, post_warehouse: Path) -> None:
    summary = write_reports(settings_for(post_warehouse, tmp_path / "reports"), POST_CYCLE)
    assert summary.counts == {"district": 0, "province": 1, "country": 1}
    assert (summary.directory / "province_12_tinh-lai-chau.xlsx").exists()


def test_a_cycle_that_received_nothing_gets_an_index_saying_so(
    tmp_path: Path, warehouse: Path
) -> None:
    # Issue 12: the run the scheduler starts for the current half-year, whose inbox folder
    # does not exist yet, must end with "nothing received", not a retrying failure.
    settings = settings_for(warehouse, tmp_path / "reports")
    write_reports(settings, CYCLE)
    summary = write_reports(settings, Cycle.parse("2022-Y"))
    assert summary.nothing_received and summary.reports == []
    assert sorted(p.name for p in summary.directory.iterdir()) == ["index.html"]
    page = summary.index.read_text(encoding="utf-8")
    assert "Chưa nhận được báo cáo nào cho kỳ 2022-Y" in page
    assert "Nothing received yet for 2022-Y" in page
    top = (settings.reports / "index.html").read_text(encoding="utf-8")
    assert 'href="2022-Y/index.html"' in top and 'href="2024-Y/index.html"' in top
    assert top.count("nothing received yet") == 1  # 2022-Y only
    # An empty cycle folder is the same; a second run changes nothing.
    (settings.inbox / "2022-Y").mkdir(parents=True)
    again = write_reports(settings, Cycle.parse("2022-Y"))
    assert again.nothing_received and again.index.read_text(encoding="utf-8") == page


def test_a_cycle_with_returns_not_yet_built_fails_clearly(tmp_path: Path, warehouse: Path) -> None:
    settings = settings_for(warehouse, tmp_path / "reports")
    waiting = settings.inbox / "2022-Y" / "16204.csv"
    waiting.parent.mkdir(parents=True)
    waiting.write_text("cycle,2022-Y\n", encoding="utf-8")
    with pytest.raises(NoReportData, match=r"1 files for 2022-Y not ingested yet.*cycle run"):
        write_reports(settings, Cycle.parse("2022-Y"))
    assert not (settings.reports / "2022-Y").exists()

    copy = tmp_path / "received.duckdb"
    shutil.copy2(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.received_files (cycle varchar, file_name varchar)")
        con.execute("insert into raw.received_files values ('2022-Y', 'a.xlsx')")
    waiting.unlink()
    with pytest.raises(NoReportData, match=r"1 files were received.*cycle transform 2022-Y"):
        write_reports(settings_for(copy, tmp_path / "reports"), Cycle.parse("2022-Y"))


def test_a_rerun_renders_only_the_reports_whose_content_changed(
    tmp_path: Path, warehouse: Path
) -> None:
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


def rewritten(summary: ReportSummary, since: dict[str, int]) -> set[str]:
    """The files of `summary` written since their modification times were `since`."""
    return {p.name for p in summary.files if p.stat().st_mtime_ns != since.get(p.name)}


def test_an_unchanged_warehouse_renders_nothing_and_reads_no_figures(
    tmp_path: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(warehouse, tmp_path / "reports")
    first = write_reports(settings, CYCLE)
    mtimes = {p.name: p.stat().st_mtime_ns for p in first.files}

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the marts were read")

    monkeypatch.setattr(render, "load_cycle", no_read)
    again = write_reports(settings, CYCLE)
    assert again.unchanged == len(again.reports) == len(first.reports)
    assert rewritten(again, mtimes) == {"index.html"}
    assert (again.directory / "index.html").read_bytes() == (
        first.directory / "index.html"
    ).read_bytes()


def test_a_late_return_renders_exactly_the_reports_above_it(
    tmp_path: Path, warehouse: Path, planted: Planted
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(warehouse, copy)
    settings = settings_for(copy, tmp_path / "reports")
    first = write_reports(settings, CYCLE)
    mtimes = {p.name: p.stat().st_mtime_ns for p in first.files}
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "update marts.fct_return_status set received = true, on_time = false, "
            "submitted_on = date '2024-12-30' where cycle = ? and reporter_code = ?",
            [CYCLE.id, planted.many_abused],
        )
    again = write_reports(settings, CYCLE)
    stems = {"district_584_huyen-bac-ai", "province_58_tinh-ninh-thuan", "country"}
    assert rewritten(again, mtimes) == {
        f"{stem}.{suffix}" for stem in stems for suffix in ("xlsx", "html")
    } | {"index.html"}
    assert again.unchanged == len(again.reports) - 3

    # What a first run on the changed warehouse writes, byte for byte.
    fresh = write_reports(settings_for(copy, tmp_path / "fresh"), CYCLE)
    for path in fresh.files:
        assert (again.directory / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_changed_renderer_or_a_lost_file_renders_again(
    tmp_path: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(warehouse, tmp_path / "reports")
    first = write_reports(settings, CYCLE)
    lost = next(r for r in first.reports if r.level == "district")
    lost.xlsx.unlink()
    again = write_reports(settings, CYCLE)
    assert lost.xlsx.exists() and again.unchanged == len(again.reports) - 1

    renderer = render._renderer_digest() + b"changed"
    monkeypatch.setattr(render, "_renderer_digest", lambda: renderer)
    mtimes = {p.name: p.stat().st_mtime_ns for p in again.files}
    third = write_reports(settings, CYCLE)
    assert third.unchanged == 0
    assert rewritten(third, mtimes) == {p.name for p in third.files}


def test_the_country_report_shows_national_milestones_met_or_not(
    rendered: ReportSummary, warehouse: Path
) -> None:
    """The country (no plan of its own) is judged against the national 2025 milestone: each
    row says so, met / not met as the mart says, the summary counts follow, and CT12 shows the
    decision's narrower wording; in the page and the workbook alike."""
    import re

    import openpyxl

    from reports import present as p
    from reports.load import load_report
    from reports.xlsx import SHEETS

    report = load_report(str(warehouse), CYCLE, "country", "VN")
    judged = [i for i in report.indicators if i.target_status in ("met", "not_met")]
    assert {i.target_status for i in judged} == {"met", "not_met"}
    assert {p.target_origin(i) for i in judged} == {("Quốc gia 2025", "National 2025")}
    ct12 = next(i for i in report.indicators if i.indicator_code == "CT12")
    assert ct12.target_note_vi and "thiên tai" in (ct12.target_text or "")

    html = report_path(rendered, "country", "VN", "html").read_text(encoding="utf-8")
    for ind in judged:
        row = re.search(rf'<tr id="ind-{ind.indicator_code}".*?</tr>', html, re.S)
        assert row, ind.indicator_code
        assert f'data-status="{ind.target_status}"' in row.group(0)
        assert "Quốc gia 2025" in row.group(0) and "National 2025" in row.group(0)
    no_target = report.status_counts()["no_target"]
    assert no_target < 34
    assert f"/ No target</span></span><strong>{no_target}</strong>" in html
    wording = re.search(r'<li data-indicator="CT12">(.*?)</li>', html, re.S)
    assert wording and ct12.target_text in wording.group(1)
    assert ct12.target_note_vi in wording.group(1) and (ct12.target_note_en or "") in html
    assert "23/QĐ-TTg" in html

    wb = openpyxl.load_workbook(report_path(rendered, "country", "VN", "xlsx"))
    ws = wb[SHEETS["indicators"]]
    top = next(r[0].row for r in ws.iter_rows(min_col=1, max_col=1) if r[0].value == "Mã\nCode")
    headers = [c.value for c in ws[top]]
    cells = {
        r[0].value: r for r in ws.iter_rows(min_row=top + 1, max_row=top + len(report.indicators))
    }
    origin = headers.index("Mục tiêu theo\nTarget from")
    status = headers.index("Tình trạng\nStatus")
    words = headers.index("Diễn giải mục tiêu\nTarget as worded")
    for ind in judged:
        assert cells[ind.indicator_code][origin].value == "Quốc gia 2025 / National 2025"
        assert cells[ind.indicator_code][status].value == p.both(p.STATUS[ind.target_status])
    assert ct12.target_note_vi in cells["CT12"][words].value
    summary = wb[SHEETS["summary"]]
    counted = {
        r[0].value: r[1].value
        for r in summary.iter_rows(max_col=2)
        if r[0].value in {p.both(p.STATUS[s]) for s in p.STATUS}
    }
    assert counted[p.both(p.STATUS["no_target"])] == no_target
