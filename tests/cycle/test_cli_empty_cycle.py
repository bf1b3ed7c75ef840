"""Issue 12 / issue 11 item 10: a cycle that has received nothing yet runs green with a
"nothing received" outcome; a wrong --inbox and a cycle not built yet give a clear message and
a non-zero exit, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cycle.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("empty_cycle")]


def run(base: Path, *args: str) -> tuple[int, str]:
    options = [
        f"--inbox={base / 'inbox'}",
        f"--warehouse={base / 'warehouse.duckdb'}",
        f"--reports={base / 'reports'}",
        f"--archive={base / 'archive'}",
        f"--contacts={base / 'contacts.csv'}",
    ]
    result = CliRunner().invoke(main, [*args, *options], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def empty_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A first run of the deployment, for a half-year whose inbox folder does not exist yet
    (what unpausing the DAG starts)."""
    base = tmp_path_factory.mktemp("empty")
    (base / "inbox").mkdir()
    code, output = run(base, "run", "2026-H1", "--dry-run-alerts")
    assert code == 0, output
    yield base, output


def test_a_cycle_that_received_nothing_runs_green_and_says_so(
    empty_run: tuple[Path, str],
) -> None:
    base, output = empty_run
    assert "nothing received yet for 2026-H1" in output.split("Transform")[0]  # ingest
    report_line = next(line for line in output.splitlines() if line.startswith("Report"))
    assert "nothing received yet for 2026-H1" in report_line
    index = base / "reports" / "2026-H1" / "index.html"
    assert "Nothing received yet for 2026-H1" in index.read_text(encoding="utf-8")
    assert "2026-H1/index.html" in (base / "reports" / "index.html").read_text(encoding="utf-8")
    # The report step alone says the same, with success.
    code, again = run(base, "report", "2026-H1")
    assert code == 0 and "nothing received yet for 2026-H1" in again


def test_returns_not_ingested_yet_are_a_clear_error(empty_run: tuple[Path, str]) -> None:
    base, _ = empty_run
    waiting = base / "inbox" / "2025-Y" / "return.csv"
    waiting.parent.mkdir()
    waiting.write_text("cycle,2025-Y\n", encoding="utf-8")
    try:
        code, output = run(base, "report", "2025-Y")
    finally:
        waiting.unlink()
    assert code == 1
    assert "not ingested yet (run `cycle run 2025-Y`)" in output and "chưa được nạp" in output


def test_a_missing_inbox_is_an_error_and_a_missing_cycle_folder_is_not(tmp_path: Path) -> None:
    code, output = run(tmp_path, "ingest", "2026-H1")  # tmp_path/inbox does not exist
    assert code == 1
    assert f"Inbox not found: {tmp_path / 'inbox'} (check --inbox / CYCLE_INBOX)" in output
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing was written

    (tmp_path / "inbox").mkdir()
    code, output = run(tmp_path, "ingest", "2026-H1")
    assert code == 0
    assert "0 files" in output and "nothing received yet for 2026-H1" in output
