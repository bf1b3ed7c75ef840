"""Every rule of the input contract, on real xlsx and csv files written by the tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from core.cycles import Cycle
from core.reference import reference
from ingest.contract import CheckedReturn
from ingest.pipeline import check_path
from tests.conftest import write_csv, write_xlsx

CSV_HEADER = ("cycle", "reporter_code", "unit_code", "element_code", "value", "submitted_on")
CYCLE = Cycle.parse("2023-Y")


def check(path: Path, folder: Cycle | None = CYCLE) -> CheckedReturn:
    return check_path(path, folder)


def commune_info(**changes: object) -> list[tuple[str, object]]:
    info: dict[str, object] = {
        "cycle": "2023-Y",
        "reporter_code": "16204",
        "reporter_name": "UBND xã Bình Lương",
        "submitted_on": "2023-12-05",
        "form_version": "CT-2021.1",
    }
    info.update(changes)
    return [(k, v) for k, v in info.items() if v is not None]


def reasons(checked: CheckedReturn) -> list[tuple[int | None, str]]:
    return [(p.row, p.code) for p in checked.problems]


# -- the shared examples load ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["commune_16204_2023-Y.xlsx", "commune_16204_2023-Y.csv", "agency_402-health_2023-Y.csv"],
)
def test_domain_examples_load(name: str) -> None:
    examples = Path(__file__).resolve().parents[2] / "docs" / "domain" / "examples"
    checked = check(examples / name)
    assert checked.status == "valid", checked.problems
    assert not checked.problems
    assert len(checked.figures) == (14 if "health" in name else 23)


# -- formats ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("delimiter", "bom"), [(",", False), (",", True), (";", False), (";", True)]
)
def test_csv_with_or_without_bom_comma_or_semicolon(
    tmp_path: Path, delimiter: str, bom: bool
) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        CSV_HEADER,
        [
            ("2023-Y", "402-health", "16204", "live_births", "1.234", "12/06/2023"),
            ("2023-Y", "402-health", "16204", "u5_weighed", "1 530", "12/06/2023"),
            ("2023-Y", "402-health", "16207", "u5_weighed", 0, "12/06/2023"),
        ],
        delimiter=delimiter,
        bom=bom,
    )
    checked = check(path)
    assert checked.status == "valid"
    assert {(f.unit_code, f.element_code, f.value) for f in checked.figures} == {
        ("16204", "live_births", 1234),
        ("16204", "u5_weighed", 1530),
        ("16207", "u5_weighed", 0),
    }
    assert str(checked.submitted_on) == "2023-06-12"


def test_xlsx_blank_unit_means_the_reporter_and_date_cells_are_read(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "r.xlsx",
        commune_info(submitted_on=datetime(2023, 12, 5)),
        [
            (None, "pop_children", "Tổng số trẻ em", 1843),
            ("16204", "pop_under5", "", "552"),
            (16204, "abused", "", 0),
            (None, "child_marriages", "", None),  # blank: not reported
        ],
    )
    checked = check(path)
    assert checked.status == "valid"
    assert {(f.unit_code, f.element_code, f.value) for f in checked.figures} == {
        ("16204", "pop_children", 1843),
        ("16204", "pop_under5", 552),
        ("16204", "abused", 0),
    }
    assert checked.rows_blank == 1
    assert str(checked.submitted_on) == "2023-12-05"


def test_codes_that_lost_their_leading_zeros_are_read_right(tmp_path: Path) -> None:
    # Excel drops leading zeros: commune 03390 becomes 3390, district 047 becomes 47.
    path = write_csv(
        tmp_path / "r.csv",
        CSV_HEADER,
        [("2023-Y", "106-police", "3390", "abused_cases_police", 1, "2023-12-01")],
    )
    checked = check(path)
    assert checked.reporter_code == "106-police"
    assert checked.figures[0].unit_code == "03390"
    trung_khanh = write_csv(
        tmp_path / "t.csv",
        CSV_HEADER,
        [("2023-Y", "47-health", "1447", "live_births", 3, "2023-12-01")],
    )
    assert check(trung_khanh).reporter_code == "047-health"


# -- file-level rejections -------------------------------------------------------------------------
def test_unsupported_and_corrupt_files_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "r.pdf").write_bytes(b"%PDF-1.4")
    assert check(tmp_path / "r.pdf").file_problem.code == "unsupported_format"  # type: ignore[union-attr]
    good = write_xlsx(tmp_path / "good.xlsx", commune_info(), [(None, "pop_children", "", 5)])
    (tmp_path / "cut.xlsx").write_bytes(good.read_bytes()[:300])
    assert check(tmp_path / "cut.xlsx").file_problem.code == "unreadable_file"  # type: ignore[union-attr]
    (tmp_path / "text.xlsx").write_text("cycle,reporter_code\n")
    assert check(tmp_path / "text.xlsx").file_problem.code == "unreadable_file"  # type: ignore[union-attr]
    (tmp_path / "zip.csv").write_bytes(good.read_bytes())
    assert check(tmp_path / "zip.csv").file_problem.code == "unreadable_file"  # type: ignore[union-attr]


def test_csv_not_in_utf8_is_rejected(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        (*CSV_HEADER, "note"),
        [("2023-Y", "16204", "16204", "pop_children", 5, "2023-12-01", "Ghi chú")],
        encoding="cp1258",
    )
    assert check(path).file_problem.code == "not_utf8"  # type: ignore[union-attr]


def test_missing_sheet_or_column_or_field(tmp_path: Path) -> None:
    no_info = write_xlsx(
        tmp_path / "a.xlsx", commune_info(), [(None, "pop_children", "", 5)], info_sheet="Info"
    )
    problem = check(no_info).file_problem
    assert (
        problem is not None and problem.code == "missing_sheet" and "ThongTin" in problem.message_en
    )
    no_value = write_xlsx(
        tmp_path / "b.xlsx",
        commune_info(),
        [(None, "pop_children", "", 5)],
        header=("unit_code", "element_code", "element_name", "so_lieu"),
    )
    problem = check(no_value).file_problem
    assert (
        problem is not None and problem.code == "missing_column" and "value" in problem.message_en
    )
    no_cycle = write_xlsx(
        tmp_path / "c.xlsx", commune_info(cycle=None), [(None, "pop_children", "", 5)]
    )
    assert check(no_cycle).file_problem.code == "missing_field"  # type: ignore[union-attr]
    csv_no_reporter = write_csv(
        tmp_path / "d.csv",
        ("cycle", "unit_code", "element_code", "value"),
        [("2023-Y", "16204", "pop_children", 5)],
    )
    problem = check(csv_no_reporter).file_problem
    assert problem is not None and problem.code == "missing_column"
    assert "reporter_code" in problem.message_en


def test_sheet_and_header_names_are_matched_loosely(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "r.xlsx",
        commune_info(),
        [(None, "pop_children", "", 5)],
        info_sheet="Thông tin",
        data_sheet="Số liệu",
        header=("Unit_Code", "ELEMENT_CODE", "element name", " value "),
    )
    assert check(path).status == "valid"


def test_cycle_must_match_its_folder_and_be_a_cycle(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "r.xlsx", commune_info(cycle="2023-H1"), [(None, "pop_children", "", 5)]
    )
    problem = check(path).file_problem
    assert problem is not None and problem.code == "cycle_mismatch"
    assert "2023-H1" in problem.message_en and "2023-Y" in problem.message_en
    bad = write_xlsx(
        tmp_path / "s.xlsx", commune_info(cycle="2023"), [(None, "pop_children", "", 5)]
    )
    assert check(bad).file_problem.code == "invalid_cycle"  # type: ignore[union-attr]
    mixed = write_csv(
        tmp_path / "m.csv",
        CSV_HEADER,
        [
            ("2023-Y", "16204", "16204", "pop_children", 5, ""),
            ("2023-H1", "16204", "16204", "pop_under5", 5, ""),
        ],
    )
    assert check(mixed).file_problem.code == "mixed_cycles"  # type: ignore[union-attr]


def test_unknown_or_mixed_reporters_are_rejected(tmp_path: Path) -> None:
    unknown = write_csv(
        tmp_path / "u.csv", CSV_HEADER, [("2023-Y", "99999", "99999", "pop_children", 5, "")]
    )
    problem = check(unknown).file_problem
    assert (
        problem is not None and problem.code == "unknown_reporter" and "99999" in problem.message_en
    )
    bad_agency = write_csv(
        tmp_path / "a.csv", CSV_HEADER, [("2023-Y", "402-finance", "16204", "live_births", 5, "")]
    )
    assert check(bad_agency).file_problem.code == "unknown_reporter"  # type: ignore[union-attr]
    mixed = write_csv(
        tmp_path / "m.csv",
        CSV_HEADER,
        [
            ("2023-Y", "16204", "16204", "pop_children", 5, ""),
            ("2023-Y", "16207", "16207", "pop_children", 5, ""),
        ],
    )
    assert check(mixed).file_problem.code == "mixed_reporters"  # type: ignore[union-attr]


def test_codes_are_read_in_the_hierarchy_of_the_cycle(tmp_path: Path) -> None:
    # 03390 was Thị trấn Tam Đường (district 106) and is Xã Bình Lư (province 12) after the reform.
    before = write_csv(
        tmp_path / "2024-Y" / "r.csv",
        CSV_HEADER,
        [("2024-Y", "106-health", "03390", "live_births", 5, "")],
    )
    assert check(before, Cycle.parse("2024-Y")).status == "valid"
    after = write_csv(
        tmp_path / "2025-Y" / "r.csv",
        CSV_HEADER,
        [("2025-Y", "106-health", "03390", "live_births", 5, "")],
    )
    assert check(after, Cycle.parse("2025-Y")).file_problem.code == "unknown_reporter"  # type: ignore[union-attr]
    province = write_csv(
        tmp_path / "2025-Y" / "p.csv",
        CSV_HEADER,
        [("2025-Y", "12-health", "03390", "live_births", 5, "")],
    )
    checked = check(province, Cycle.parse("2025-Y"))
    assert checked.status == "valid" and checked.reporter_code == "12-health"


def test_invalid_submitted_on_names_its_row(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        CSV_HEADER,
        [
            ("2023-Y", "16204", "16204", "pop_children", 5, "2023-12-01"),
            ("2023-Y", "16204", "16204", "pop_under5", 5, "31/02/2023"),
        ],
    )
    problem = check(path).file_problem
    assert problem is not None and (problem.code, problem.row) == ("invalid_date", 3)


def test_a_file_with_no_valid_figure_is_rejected(tmp_path: Path) -> None:
    empty = write_xlsx(tmp_path / "e.xlsx", commune_info(), [(None, "pop_children", "", None)])
    assert check(empty).file_problem.code == "no_figures"  # type: ignore[union-attr]
    only_bad = write_xlsx(tmp_path / "b.xlsx", commune_info(), [(None, "pop_children", "", "x")])
    checked = check(only_bad)
    assert checked.file_problem is not None and checked.file_problem.code == "no_valid_figures"
    assert reasons(checked)[1:] == [(2, "not_a_number")]


# -- row-level rejections --------------------------------------------------------------------------
def test_every_row_rule_names_file_sheet_row_and_reason(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "r.xlsx",
        commune_info(),
        [
            (None, "pop_children", "", 1843),  # row 2: fine
            (None, "pop_under6", "", 10),  # row 3: unknown element
            (None, "live_births", "", 10),  # row 4: sent by health, not the commune
            ("16207", "pop_under5", "", 10),  # row 5: another commune
            ("99999", "pop_under5", "", 10),  # row 6: no such commune
            (None, "pop_under8", "", "-4"),  # row 7: negative
            (None, "pop_age5", "", "12,5"),  # row 8: decimal
            (None, "pop_5_17", "", "nhiều"),  # row 9: text
            (None, "pop_7_15", "", "=1/0|#DIV/0!"),  # row 10: formula error
            (None, "child_friendly_commune", "", 2),  # row 11: a flag takes 0 or 1
            (None, "", "", 5),  # row 12: no element
            (None, "pop_11_15", "", 8.5),  # row 13: decimal number cell
        ],
    )
    checked = check(path)
    assert checked.status == "valid"
    assert [f.element_code for f in checked.figures] == ["pop_children"]
    assert reasons(checked) == [
        (3, "unknown_element"),
        (4, "element_not_in_role"),
        (5, "unit_outside_jurisdiction"),
        (6, "unknown_unit"),
        (7, "negative_value"),
        (8, "decimal_value"),
        (9, "not_a_number"),
        (10, "formula_error"),
        (11, "invalid_flag"),
        (12, "missing_element"),
        (13, "decimal_value"),
    ]
    first = checked.problems[0]
    assert first.file == "r.xlsx" and first.sheet == "SoLieu"
    assert str(first).startswith("r.xlsx:SoLieu, row 3: [unknown_element]")
    assert "không có trong danh mục" in first.message_vi and "unknown element" in first.message_en


def test_formula_with_a_whole_result_is_accepted(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "r.xlsx",
        commune_info(),
        [(None, "pop_children", "", "=1000+843|1843"), (None, "pop_under5", "", "=1/3|0.333")],
    )
    checked = check(path)
    assert [(f.element_code, f.value) for f in checked.figures] == [("pop_children", 1843)]
    assert reasons(checked) == [(3, "decimal_value")]


def test_agency_rows_must_name_a_commune_of_its_district(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        CSV_HEADER,
        [
            ("2023-Y", "402-health", "16204", "live_births", 101, ""),
            ("2023-Y", "402-health", "", "live_births", 101, ""),  # row 3: no commune
            ("2023-Y", "402-health", "03390", "live_births", 5, ""),  # row 4: other district
            ("2023-Y", "402-health", "16204", "abused_cases_police", 1, ""),  # row 5: police's
        ],
        delimiter=";",
    )
    checked = check(path)
    assert reasons(checked) == [
        (3, "unit_required"),
        (4, "unit_outside_jurisdiction"),
        (5, "element_not_in_role"),
    ]
    assert "Tam Đường" in checked.problems[1].message_vi


def test_the_same_figure_twice_is_never_double_counted(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        CSV_HEADER,
        [
            ("2023-Y", "402-health", "16204", "live_births", 101, ""),
            ("2023-Y", "402-health", "16204", "live_births", 101, ""),  # same value again
            ("2023-Y", "402-health", "16207", "live_births", 50, ""),
            ("2023-Y", "402-health", "16207", "live_births", 60, ""),  # conflicting value
            ("2023-Y", "402-health", "16210", "live_births", 70, ""),
        ],
    )
    checked = check(path)
    assert {(f.unit_code, f.value) for f in checked.figures} == {("16204", 101), ("16210", 70)}
    assert reasons(checked) == [
        (3, "duplicate_figure"),
        (4, "conflicting_figure"),
        (5, "conflicting_figure"),
    ]


def test_reference_has_both_hierarchies() -> None:
    ref = reference()
    assert len(ref.units_at("pre_reform", "province")) == 63
    assert len(ref.units_at("post_reform", "province")) == 34
    assert len(ref.units_at("post_reform", "commune")) == 3321
    assert 9_900 < len(ref.units_at("pre_reform", "commune")) < 10_200
    assert ref.commune("pre_reform", "03390").name_vi == "Thị trấn Tam Đường"  # type: ignore[union-attr]
    assert ref.commune("post_reform", "03390").name_vi == "Xã Bình Lư"  # type: ignore[union-attr]
