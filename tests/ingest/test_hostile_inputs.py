"""The hostile-input corpus (issue 11): every kind of bad input gets a clear reason, stays
inside its file or row, and never stops the other files. Each file is built here by code."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from core.cycles import Cycle
from core.settings import Settings
from core.warehouse import Warehouse
from ingest import limits
from ingest.contract import CheckedReturn
from ingest.pipeline import check_files, ingest_cycle
from tests.conftest import set_received, write_csv, write_xlsx

CYCLE = Cycle.parse("2023-Y")
HEADER = ("cycle", "reporter_code", "unit_code", "element_code", "value", "submitted_on")


def good_return(path: Path, value: int = 1843, reporter: str = "16207") -> Path:
    """A valid return, by default from another commune than the hostile files'."""
    return write_csv(
        path,
        HEADER,
        [
            ("2023-Y", reporter, reporter, "pop_children", value, "2023-12-05"),
            ("2023-Y", reporter, reporter, "pop_under5", value // 3, "2023-12-05"),
        ],
    )


def rows_of(*values: object, element: str = "pop_children") -> list[tuple[object, ...]]:
    return [("2023-Y", "16204", "16204", element, v, "2023-12-05") for v in values]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(base=tmp_path)


@pytest.fixture
def folder(settings: Settings) -> Path:
    path = settings.inbox / CYCLE.id
    path.mkdir(parents=True)
    return path


def table(settings: Settings, name: str) -> pd.DataFrame:
    with Warehouse(settings.warehouse).connect(read_only=True) as con:
        return con.query_df(f"select * from raw.{name}")


def files(settings: Settings) -> pd.DataFrame:
    return table(settings, "received_files").set_index("file_name")


def check_one(path: Path) -> CheckedReturn:
    (result,) = check_files([path])
    return result


def codes(result: CheckedReturn) -> list[str]:
    return [p.code for p in result.problems]


def ingest_and_check(settings: Settings, path: Path) -> tuple[pd.DataFrame, CheckedReturn]:
    """Ingest the inbox (beside a good return) and check the file: both must agree."""
    good_return(path.parent / "zz_good.csv")
    summary = ingest_cycle(settings, CYCLE)
    recorded = files(settings)
    assert recorded.loc["zz_good.csv", "status"] == "loaded"
    assert summary.loaded >= 1
    return recorded, check_one(path)


# -- item 2: one number too big ------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["99999999999999999999999", "5000000000000000000", str(limits.MAX_VALUE + 1)]
)
def test_a_value_too_large_is_a_row_problem_and_the_rest_loads(
    settings: Settings, folder: Path, value: str
) -> None:
    path = write_csv(
        folder / "big.csv",
        HEADER,
        [*rows_of(value), *rows_of(limits.MAX_VALUE, element="pop_under5")],
    )
    recorded, checked = ingest_and_check(settings, path)
    assert recorded.loc["big.csv", "status"] == "loaded"
    rejected = table(settings, "rejected_rows")
    assert list(rejected["reason_code"]) == ["value_too_large"]
    assert "quá lớn" in rejected["reason_vi"][0] and "too large" in rejected["reason_en"][0]
    assert codes(checked) == ["value_too_large"] and len(checked.figures) == 1


def test_an_xlsx_float_too_large_is_rejected(settings: Settings, folder: Path) -> None:
    path = write_xlsx(
        folder / "float.xlsx",
        [("cycle", "2023-Y"), ("reporter_code", "16204")],
        [("16204", "pop_children", "", 1e300), ("16204", "pop_under5", "", 12)],
    )
    recorded, checked = ingest_and_check(settings, path)
    assert recorded.loc["float.xlsx", "status"] == "loaded"
    assert codes(checked) == ["value_too_large"]


# -- item 3: CSV rows that vanish ----------------------------------------------------------------
def test_an_unclosed_quote_rejects_the_file_instead_of_swallowing_rows(
    settings: Settings, folder: Path
) -> None:
    lines = [",".join((*HEADER, "note"))]
    lines.append('2023-Y,16204,16204,pop_children,100,2023-12-05,"opens a quote')
    lines += ["2023-Y,16204,16204,pop_under5,30,2023-12-05,fine"] * 2999
    path = folder / "quote.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    recorded, checked = ingest_and_check(settings, path)
    assert recorded.loc["quote.csv", "status"] == "rejected"
    assert recorded.loc["quote.csv", "reason_code"] == "unclosed_quote"
    assert "line 2" in str(recorded.loc["quote.csv", "reason_en"])
    assert checked.file_problem is not None and checked.file_problem.code == "unclosed_quote"


def test_a_multi_line_note_is_still_read(folder: Path) -> None:
    path = folder / "note.csv"
    path.write_text(
        ",".join((*HEADER, "note"))
        + '\n2023-Y,16204,16204,pop_children,100,2023-12-05,"line one\nline two"'
        + "\n2023-Y,16204,16204,pop_under5,30,2023-12-05,\n",
        encoding="utf-8",
    )
    checked = check_one(path)
    assert codes(checked) == [] and len(checked.figures) == 2


@pytest.mark.parametrize("length", [limits.MAX_FIELD_CHARS + 1, 200_000])
def test_a_field_too_long_is_a_clear_rejection(
    settings: Settings, folder: Path, length: int
) -> None:
    path = folder / "long.csv"
    path.write_text(
        ",".join((*HEADER, "note"))
        + "\n2023-Y,16204,16204,pop_children,100,2023-12-05,ok"
        + "\n2023-Y,16204,16204,pop_under5,30,2023-12-05,"
        + "x" * length
        + "\n",
        encoding="utf-8",
    )
    recorded, checked = ingest_and_check(settings, path)
    assert recorded.loc["long.csv", "reason_code"] == "field_too_long"
    assert "line 3" in str(recorded.loc["long.csv", "reason_en"])
    assert codes(checked) == ["field_too_long"]


# -- item 4: conflicting figures, row limit ------------------------------------------------------
def test_conflicting_figures_get_bounded_messages(folder: Path) -> None:
    path = write_csv(folder / "conflict.csv", HEADER, rows_of(*range(1, 3001)))
    checked = check_one(path)
    assert checked.file_problem is not None and checked.file_problem.code == "no_valid_figures"
    assert len(checked.rejected_rows) == 3000
    assert {p.code for _, p in checked.rejected_rows} == {"conflicting_figure"}
    assert max(len(p.message_en) + len(p.message_vi) for _, p in checked.rejected_rows) < 400
    assert "3000" in checked.rejected_rows[0][1].message_en


def test_too_many_rows_rejects_the_file(settings: Settings, folder: Path) -> None:
    line = "2023-Y,16204,16204,pop_children,1,2023-12-05\n"
    path = folder / "many.csv"
    path.write_text(",".join(HEADER) + "\n" + line * (limits.MAX_ROWS + 1), encoding="utf-8")
    recorded, checked = ingest_and_check(settings, path)
    assert recorded.loc["many.csv", "reason_code"] == "too_many_rows"
    assert codes(checked) == ["too_many_rows"]


def test_a_file_too_large_is_not_read(settings: Settings, folder: Path) -> None:
    path = folder / "huge.csv"
    with path.open("wb") as handle:  # sparse: the size is there, the disk stays empty
        handle.truncate(limits.MAX_FILE_BYTES + 1)
    recorded, checked = ingest_and_check(settings, path)
    assert recorded.loc["huge.csv", "reason_code"] == "file_too_large"
    assert recorded.loc["huge.csv", "archive_path"] == ""
    assert codes(checked) == ["file_too_large"]


# -- item 5: symlinks and special files ----------------------------------------------------------
def test_symlinks_and_special_files_are_refused_never_followed(
    settings: Settings, folder: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:$6$hash\n")
    secret.chmod(0o600)
    outside = good_return(tmp_path / "outside" / "return.csv", 999)
    (folder / "shadow.csv").symlink_to(secret)
    (folder / "outside.csv").symlink_to(outside)
    (folder / "loop.csv").symlink_to(folder / "loop.csv")
    os.mkfifo(folder / "fifo.csv")
    (folder / "folder.xlsx").mkdir()
    ingest_cycle(settings, CYCLE)
    ingest_cycle(settings, CYCLE)  # a re-run records nothing twice
    recorded = files(settings)
    assert len(recorded) == 5
    for name in ("shadow.csv", "outside.csv", "loop.csv", "fifo.csv", "folder.xlsx"):
        assert recorded.loc[name, "status"] == "rejected", name
        assert recorded.loc[name, "reason_code"] == "not_a_regular_file", name
        assert recorded.loc[name, "archive_path"] == "", name
    assert "symbolic link" in str(recorded.loc["shadow.csv", "reason_en"])
    assert "directory" in str(recorded.loc["folder.xlsx", "reason_en"])
    assert table(settings, "return_values").empty
    assert not any(p.is_file() for p in settings.archive.rglob("*"))
    for result in check_files([folder / "shadow.csv", folder / "loop.csv", folder / "fifo.csv"]):
        assert codes(result) == ["not_a_regular_file"]


def test_the_archive_is_readable_only_by_the_service(settings: Settings, folder: Path) -> None:
    good_return(folder / "a.csv")
    ingest_cycle(settings, CYCLE)
    (archived,) = [p for p in settings.archive.rglob("*") if p.is_file()]
    assert stat.S_IMODE(archived.stat().st_mode) == 0o600
    assert stat.S_IMODE(archived.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(settings.archive.stat().st_mode) == 0o700


# -- item 6: xlsx bombs and encrypted workbooks --------------------------------------------------
def _inflate_sheet(path: Path, extra: int) -> None:
    """Rewrite an xlsx with `extra` bytes of padding in its data sheet's XML (zips ~1000:1)."""
    source = zipfile.ZipFile(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * extra, 1)
            target.writestr(info.filename, data)
    source.close()
    path.write_bytes(buffer.getvalue())


def test_an_xlsx_bomb_is_refused_before_it_is_inflated(settings: Settings, folder: Path) -> None:
    path = write_xlsx(
        folder / "bomb.xlsx",
        [("cycle", "2023-Y"), ("reporter_code", "16204")],
        [("16204", "pop_children", "", 12)],
    )
    _inflate_sheet(path, limits.MAX_INFLATED_BYTES + 1)
    assert path.stat().st_size < 1_000_000
    recorded, checked = ingest_and_check(settings, path)
    assert recorded.loc["bomb.xlsx", "reason_code"] == "xlsx_too_large"
    assert codes(checked) == ["xlsx_too_large"]


def test_an_xlsx_whose_sizes_lie_is_refused(folder: Path) -> None:
    path = write_xlsx(
        folder / "liar.xlsx",
        [("cycle", "2023-Y"), ("reporter_code", "16204")],
        [("16204", "pop_children", "", 12)],
    )
    _inflate_sheet(path, 100_000)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet2.xml")
    real = info.file_size.to_bytes(4, "little")
    # the sizes in both headers now claim 1,000 bytes
    data[:] = data.replace(
        info.compress_size.to_bytes(4, "little") + real,
        info.compress_size.to_bytes(4, "little") + (1000).to_bytes(4, "little"),
    )
    path.write_bytes(bytes(data))
    assert codes(check_one(path)) in (["unreadable_file"], ["xlsx_too_large"])


@pytest.mark.parametrize(
    ("row", "column", "code"),
    [
        (1_048_575, 16_383, "too_many_rows"),
        (limits.MAX_ROWS + 30, 0, "too_many_rows"),
        (1_000, 2_500, "sheet_too_large"),
    ],
)
def test_a_sheet_spanning_a_huge_area_is_refused_before_calamine_allocates_it(
    folder: Path, row: int, column: int, code: str
) -> None:
    import xlsxwriter

    # a return with one more cell, far away: at XFD1048576, 17 billion cells for calamine
    path = folder / "far.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    info, data = workbook.add_worksheet("ThongTin"), workbook.add_worksheet("SoLieu")
    info.write_column(0, 0, ["cycle", "reporter_code"])
    info.write_column(0, 1, ["2023-Y", "16204"])
    data.write_row(0, 0, ["unit_code", "element_code", "value"])
    data.write_row(1, 0, ["16204", "pop_children", 12])
    data.write(row, column, 1)
    workbook.close()
    assert path.stat().st_size < 10_000
    assert codes(check_one(path)) == [code]


def _ole_file(*streams: str) -> bytes:
    """The start of an OLE compound file naming its streams, as Excel writes an encrypted one."""
    names = b"".join(s.encode("utf-16-le") for s in streams)
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + names + b"\x00" * 512


def test_an_encrypted_workbook_is_named_as_such(folder: Path) -> None:
    encrypted = folder / "locked.xlsx"
    encrypted.write_bytes(_ole_file("EncryptionInfo", "EncryptedPackage"))
    old = folder / "old.xlsx"
    old.write_bytes(_ole_file("Workbook"))
    locked, legacy = check_files([encrypted, old])
    assert codes(locked) == ["encrypted_workbook"]
    assert "password" in locked.problems[0].message_en
    assert codes(legacy) == ["legacy_xls"]


# -- item 8: impossible dates --------------------------------------------------------------------
@pytest.mark.parametrize("day", ["2099-01-01", "1900-01-01", "31/12/2022"])
def test_an_impossible_submitted_on_never_wins_supersession(
    settings: Settings, folder: Path, day: str
) -> None:
    correction = write_csv(folder / "b_correction.csv", HEADER, rows_of(1200))
    set_received(correction, datetime(2023, 12, 6, 9))
    forged = write_csv(folder / "a_forged.csv", HEADER, [(*r[:5], day) for r in rows_of(1000)])
    set_received(forged, datetime(2023, 12, 5, 9))
    ingest_cycle(settings, CYCLE)
    recorded = files(settings)
    assert recorded.loc["b_correction.csv", "status"] == "loaded"
    assert recorded.loc["a_forged.csv", "status"] == "rejected"
    assert recorded.loc["a_forged.csv", "reason_code"] == "implausible_date"
    assert codes(check_one(forged)) == ["implausible_date"]


def test_submitted_on_a_day_after_arrival_in_utc_is_plausible(folder: Path) -> None:
    # sent at 06:00 in Hanoi on 6 December, 23:00 UTC on the 5th
    path = write_csv(folder / "early.csv", HEADER, [(*r[:5], "2023-12-06") for r in rows_of(5)])
    set_received(path, datetime(2023, 12, 5, 23))
    assert codes(check_one(path)) == []


# -- item 12: smaller ----------------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b" \n"])
def test_an_empty_csv_is_an_empty_file(folder: Path, content: bytes) -> None:
    path = folder / "empty.csv"
    path.write_bytes(content)
    assert codes(check_one(path)) == ["empty_file"]


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-16", "\t"), ("utf-16", ","), ("utf-16-be", ";")]
)
def test_a_utf16_csv_is_read(folder: Path, encoding: str, delimiter: str) -> None:
    path = folder / "unicode.csv"
    lines = [delimiter.join(HEADER)] + [delimiter.join(map(str, r)) for r in rows_of(7)]
    text = "\r\n".join(lines) + "\r\n"
    data = text.encode(encoding)
    path.write_bytes(data if encoding == "utf-16" else b"\xfe\xff" + data)
    checked = check_one(path)
    assert codes(checked) == [] and [f.value for f in checked.figures] == [7]


def test_utf16_without_its_mark_gets_a_precise_reason(folder: Path) -> None:
    path = folder / "nobom.csv"
    path.write_bytes(",".join(HEADER).encode("utf-16-le"))
    assert codes(check_one(path)) == ["not_utf8"]
    assert "UTF-16" in check_one(path).problems[0].message_en


def test_a_nul_character_deep_in_a_csv_is_refused_not_sent_to_the_warehouse(
    folder: Path,
) -> None:
    rows = rows_of(*range(1, 40), element="pop_children")
    path = write_csv(folder / "nul.csv", HEADER, [*rows[:-1], (*rows[-1][:5], "2023-12-05\x00")])
    (result,) = check_files([path])
    assert codes(result) == ["unreadable_file"]
    assert "NUL character on line 40" in result.problems[0].message_en


def test_hidden_and_temporary_files_are_recorded_not_read(settings: Settings, folder: Path) -> None:
    good_return(folder / ".hidden.csv")
    (folder / "~$return.xlsx").write_bytes(b"owner file")
    (folder / ".~lock.return.xlsx#").write_bytes(b"lock")
    ingest_cycle(settings, CYCLE)
    recorded = files(settings)
    assert set(recorded.index) == {".hidden.csv", "~$return.xlsx", ".~lock.return.xlsx#"}
    assert set(recorded["reason_code"]) == {"hidden_file"}
    assert set(recorded["archive_path"]) == {""}
    assert table(settings, "return_values").empty


def test_control_characters_in_a_file_name_are_escaped(folder: Path) -> None:
    from click.testing import CliRunner

    from cycle.cli import main

    path = folder / "x\nFORGED: OK\x1b[2J.csv"
    path.write_bytes(b"")
    result = CliRunner().invoke(main, ["check", str(path)], catch_exceptions=False)
    assert "\nFORGED" not in result.output and "\x1b" not in result.output
    assert "x\\nFORGED: OK\\x1b[2J.csv" in result.output
    assert str(check_one(path).problems[0]).count("\n") == 0


# -- conservation --------------------------------------------------------------------------------
def test_every_row_lands_somewhere(settings: Settings, folder: Path) -> None:
    rows: Sequence[tuple[object, ...]] = [
        *rows_of(10),
        *rows_of(11, element="pop_under5"),
        *rows_of(11, element="pop_under5"),  # duplicate
        *rows_of("", element="pop_under8"),  # blank
        *rows_of("abc", element="pop_age5"),
        *rows_of("99999999999", element="pop_5_17"),
        *rows_of(1, 2, element="pop_7_15"),  # conflicting
        *rows_of(3, element="nonsense"),
    ]
    write_csv(folder / "mixed.csv", HEADER, rows)
    ingest_cycle(settings, CYCLE)
    recorded = files(settings).loc["mixed.csv"]
    values, rejected = table(settings, "return_values"), table(settings, "rejected_rows")
    assert (len(values), len(rejected), recorded["rows_blank"]) == (2, 6, 1)
    assert recorded["rows_total"] == len(rows) == len(values) + len(rejected) + 1
    assert sorted(set(values["source_row"]) | set(rejected["source_row"])) == [
        r for r in range(2, len(rows) + 2) if r != 5
    ]


def test_hostile_files_never_break_an_ingest_into_postgresql(
    settings: Settings, folder: Path, postgres_url: str, tmp_path: Path
) -> None:
    settings = settings.with_(warehouse=postgres_url)
    write_csv(folder / "big.csv", HEADER, [*rows_of("99999999999999999999999"), *rows_of(7)])
    write_xlsx(
        folder / "nul.xlsx",
        [("cycle", "2023-Y"), ("reporter_code", "16210")],
        [("16210", "pop_children", "", 12, "a\x00b"), ("16210", "pop_under5", "", 1e300, "")],
        header=("unit_code", "element_code", "element_name", "value", "note"),
    )
    (folder / "link.csv").symlink_to(good_return(tmp_path / "elsewhere.csv"))
    good_return(folder / "good.csv", 500, reporter="16201")
    summary = ingest_cycle(settings, CYCLE)
    assert (summary.loaded, summary.rejected, summary.rows_loaded) == (3, 1, 4)
    recorded = files(settings)
    assert recorded.loc["link.csv", "reason_code"] == "not_a_regular_file"
    rejected = table(settings, "rejected_rows").set_index("file_name")
    assert rejected.loc["big.csv", "reason_code"] == "value_too_large"
    assert rejected.loc["nul.xlsx", "reason_code"] == "value_too_large"
    notes = set(table(settings, "return_values")["note"].dropna())
    assert notes == {"ab"}
