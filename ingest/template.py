"""The pre-filled return a reporter fills in: `cycle template REPORTER_CODE CYCLE`."""

from __future__ import annotations

from pathlib import Path

from core.cycles import Cycle
from core.reference import Reference, Reporter
from ingest.readers import DATA_SHEET, INFO_SHEET

FORM_VERSION = "CT-2021.1"


def template_rows(reporter: Reporter, reference: Reference) -> list[tuple[str, str, str, str]]:
    """(unit_code, unit_name, element_code, element_name) for every figure the reporter sends."""
    rows = []
    for unit_code in sorted(reporter.communes):
        commune = reference.commune(reporter.unit.hierarchy, unit_code)
        unit_name = commune.name_vi if commune else ""
        for element_code in reference.elements_by_role[reporter.role]:
            element = reference.elements[element_code]
            rows.append((unit_code, unit_name, element_code, element.name_vi))
    return rows


def write_template(path: Path, reporter: Reporter, cycle: Cycle, reference: Reference) -> Path:
    """Write the return as `.xlsx`: sheet ThongTin (who, which cycle) and sheet SoLieu (one row
    per unit and element, values blank). Values are restricted to whole numbers >= 0."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    locked_text = workbook.add_format({"num_format": "@"})
    value_cell = workbook.add_format(
        {"num_format": "#,##0", "bg_color": "#FFF2CC", "locked": False}
    )
    date_cell = workbook.add_format(
        {"num_format": "dd/mm/yyyy", "bg_color": "#FFF2CC", "locked": False}
    )

    info = workbook.add_worksheet(INFO_SHEET)
    info.set_column(0, 0, 18)
    info.set_column(1, 1, 48)
    info_rows: list[tuple[str, str]] = [
        ("cycle", cycle.id),
        ("reporter_code", reporter.code),
        ("reporter_name", reporter.name_vi),
        ("submitted_on", ""),
        ("form_version", FORM_VERSION),
    ]
    for index, (key, value) in enumerate(info_rows):
        info.write_string(index, 0, key, bold)
        if key == "submitted_on":
            info.write_blank(index, 1, None, date_cell)
            info.write_comment(index, 1, "Ngày gửi / date sent: 12/06/2024")
        else:
            info.write_string(index, 1, value, locked_text)

    data = workbook.add_worksheet(DATA_SHEET)
    header = ["unit_code", "element_code", "element_name", "value", "unit_name", "note"]
    data.write_row(0, 0, header, bold)
    data.set_column(0, 0, 10)
    data.set_column(1, 1, 26)
    data.set_column(2, 2, 70)
    data.set_column(3, 3, 12)
    data.set_column(4, 4, 28)
    data.set_column(5, 5, 30)
    data.freeze_panes(1, 0)
    rows = template_rows(reporter, reference)
    for index, (unit_code, unit_name, element_code, element_name) in enumerate(rows, start=1):
        data.write_string(index, 0, unit_code, locked_text)
        data.write_string(index, 1, element_code, locked_text)
        data.write_string(index, 2, element_name)
        data.write_blank(index, 3, None, value_cell)
        data.write_string(index, 4, unit_name)
        data.write_blank(index, 5, None, value_cell)
    if rows:
        data.data_validation(
            1,
            3,
            len(rows),
            3,
            {
                "validate": "integer",
                "criteria": ">=",
                "value": 0,
                "error_title": "Số nguyên / Whole number",
                "error_message": "Nhập số nguyên không âm. / Enter a whole number >= 0.",
            },
        )
    workbook.close()
    return path
