"""Why a file or a row is rejected: stable codes with messages in Vietnamese and English.

The codes are stored in the warehouse (`raw.received_files.reason_code`,
`raw.rejected_rows.reason_code`) and are part of the contract with the offices: keep them stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Scope = Literal["file", "row"]

# code -> (scope, Vietnamese template, English template)
REASONS: dict[str, tuple[Scope, str, str]] = {
    # file level
    "unsupported_format": (
        "file",
        "Tệp không phải định dạng .xlsx hoặc .csv",
        "not an .xlsx or .csv file",
    ),
    "unreadable_file": (
        "file",
        "Không đọc được tệp (tệp hỏng hoặc sai định dạng): {detail}",
        "cannot read the file (corrupt or not what its name says): {detail}",
    ),
    "not_utf8": (
        "file",
        "Tệp CSV không dùng bảng mã UTF-8{found_vi} (lưu lại với 'CSV UTF-8')",
        "the CSV file is not UTF-8 encoded{found_en} (save it again as 'CSV UTF-8')",
    ),
    "file_too_large": (
        "file",
        "Tệp quá lớn ({size} byte; tối đa {limit} byte)",
        "the file is too large ({size} bytes; at most {limit})",
    ),
    "not_a_regular_file": (
        "file",
        "Không phải tệp thông thường ({kind}): không đọc, không lưu",
        "not a regular file ({kind}): not read, not archived",
    ),
    "hidden_file": (
        "file",
        "Tệp ẩn hoặc tệp tạm của trình soạn thảo: không đọc (gửi lại với tên không bắt đầu"
        " bằng '.' hoặc '~$')",
        "hidden or editor temporary file: not read (send it again with a name that does not"
        " start with '.' or '~$')",
    ),
    "empty_file": (
        "file",
        "Tệp rỗng",
        "the file is empty",
    ),
    "encrypted_workbook": (
        "file",
        "Tệp Excel được đặt mật khẩu (mã hóa): bỏ mật khẩu rồi lưu lại dạng .xlsx",
        "encrypted / password-protected workbook: remove the password and save it again as .xlsx",
    ),
    "legacy_xls": (
        "file",
        "Tệp Excel cũ (.xls) mang đuôi .xlsx: lưu lại dạng Excel Workbook (.xlsx)",
        "an old Excel (.xls) workbook named .xlsx: save it again as Excel Workbook (.xlsx)",
    ),
    "xlsx_too_large": (
        "file",
        "Nội dung tệp Excel khi giải nén quá lớn (hơn {limit} byte)",
        "the workbook's content is too large once unzipped (over {limit} bytes)",
    ),
    "sheet_too_large": (
        "file",
        "Trang tính trải trên {rows} dòng x {columns} cột (tối đa {limit} ô)",
        "a sheet spans {rows} rows x {columns} columns (at most {limit} cells)",
    ),
    "too_many_rows": (
        "file",
        "Tệp có quá nhiều dòng (hơn {limit})",
        "the file has too many rows (over {limit})",
    ),
    "field_too_long": (
        "file",
        "Dòng {line}: một ô dài hơn {limit} ký tự",
        "line {line}: a field is longer than {limit} characters",
    ),
    "unclosed_quote": (
        "file",
        "Dấu ngoặc kép mở ở dòng {line} không đóng trên dòng đó: {swallowed} dòng sau bị nuốt"
        ' vào một ô (sửa dấu " trong cột ghi chú)',
        "the quote opened on line {line} is not closed on its line: the {swallowed} lines after"
        ' it would be read as one field (fix the " in the note)',
    ),
    "malformed_csv": (
        "file",
        "Tệp CSV sai cấu trúc ở dòng {line}: {detail}",
        "malformed CSV on line {line}: {detail}",
    ),
    "missing_sheet": (
        "file",
        "Thiếu trang tính '{missing}'",
        "sheet '{missing}' is missing",
    ),
    "missing_column": (
        "file",
        "Thiếu cột: {columns}",
        "missing column(s): {columns}",
    ),
    "missing_field": (
        "file",
        "Thiếu thông tin '{field}' trong trang ThongTin",
        "'{field}' is missing from sheet ThongTin",
    ),
    "invalid_cycle": (
        "file",
        "'{value}' không phải mã kỳ báo cáo (dạng 2024-H1 hoặc 2024-Y)",
        "'{value}' is not a cycle id (2024-H1 or 2024-Y)",
    ),
    "cycle_mismatch": (
        "file",
        "Kỳ báo cáo {cycle} không khớp với thư mục {folder}",
        "cycle {cycle} does not match its folder {folder}",
    ),
    "mixed_cycles": (
        "file",
        "Tệp có số liệu của nhiều kỳ báo cáo ({values}); mỗi tệp chỉ cho một kỳ",
        "the file holds rows for several cycles ({values}); a return is for one cycle",
    ),
    "mixed_reporters": (
        "file",
        "Tệp có số liệu của nhiều đơn vị báo cáo ({values}); mỗi tệp chỉ của một đơn vị",
        "the file holds rows from several reporters ({values}); a return is from one reporter",
    ),
    "unknown_reporter": (
        "file",
        "Không có đơn vị báo cáo '{code}' trong danh mục hành chính áp dụng cho kỳ {cycle}",
        "unknown reporter '{code}' in the administrative units in force for cycle {cycle}",
    ),
    "invalid_date": (
        "file",
        "Ngày gửi '{value}' không hợp lệ (ghi 2024-06-12 hoặc 12/06/2024)",
        "submitted_on '{value}' is not a date (write 2024-06-12 or 12/06/2024)",
    ),
    "implausible_date": (
        "file",
        "Ngày gửi {value} không thể đúng: phải từ {earliest} đến ngày nhận tệp {received}",
        "submitted_on {value} cannot be right: it must fall between {earliest} and the day the"
        " file was received, {received}",
    ),
    "no_figures": (
        "file",
        "Tệp không có số liệu nào",
        "the file holds no figures",
    ),
    "no_valid_figures": (
        "file",
        "Không có số liệu hợp lệ nào trong tệp ({rejected} dòng bị loại)",
        "no valid figure in the file ({rejected} rows rejected)",
    ),
    "cycle_locked": (
        "file",
        "Kỳ {cycle} đã khóa sau phê duyệt: tệp được lưu nhưng chưa dùng; sẽ được nhận khi kỳ"
        " được mở khóa (cycle unlock)",
        "cycle {cycle} is locked after sign-off: the file is archived, not used; it is taken"
        " once the cycle is unlocked (cycle unlock)",
    ),
    "duplicate_file": (
        "file",
        "Trùng nội dung với tệp '{original}' đã nhận",
        "same bytes as '{original}', already received",
    ),
    # row level
    "missing_element": (
        "row",
        "Thiếu mã chỉ tiêu (element_code)",
        "element_code is blank",
    ),
    "unknown_element": (
        "row",
        "Mã chỉ tiêu '{element}' không có trong danh mục",
        "unknown element '{element}'",
    ),
    "element_not_in_role": (
        "row",
        "Chỉ tiêu '{element}' do {owner} báo cáo, không phải {reporter}",
        "element '{element}' is sent by {owner}, not by {reporter}",
    ),
    "unknown_unit": (
        "row",
        "Mã đơn vị '{unit}' không có trong danh mục xã/phường áp dụng cho kỳ {cycle}",
        "unknown unit '{unit}' among the communes in force for cycle {cycle}",
    ),
    "unit_outside_jurisdiction": (
        "row",
        "Đơn vị {unit} ({unit_name}) không thuộc phạm vi báo cáo của {reporter}",
        "unit {unit} ({unit_name}) is outside the jurisdiction of {reporter}",
    ),
    "unit_required": (
        "row",
        "Cơ quan báo cáo theo từng xã: cần ghi mã xã (unit_code)",
        "an agency reports per commune: unit_code is required",
    ),
    "not_a_number": (
        "row",
        "Giá trị '{value}' không phải là số",
        "value '{value}' is not a number",
    ),
    "decimal_value": (
        "row",
        "Giá trị '{value}' là số thập phân; chỉ nhận số nguyên (viết 1234 hoặc 1.234)",
        "value '{value}' is a decimal; only whole numbers are accepted (write 1234 or 1.234)",
    ),
    "negative_value": (
        "row",
        "Giá trị '{value}' là số âm",
        "value '{value}' is negative",
    ),
    "formula_error": (
        "row",
        "Công thức không cho ra số ({value})",
        "the formula does not evaluate to a number ({value})",
    ),
    "value_too_large": (
        "row",
        "Giá trị '{value}' quá lớn (tối đa {limit})",
        "value '{value}' is too large (at most {limit})",
    ),
    "invalid_flag": (
        "row",
        "Chỉ tiêu '{element}' chỉ nhận 1 (có) hoặc 0 (không), không phải '{value}'",
        "element '{element}' takes 1 (yes) or 0 (no), not '{value}'",
    ),
    "duplicate_figure": (
        "row",
        "Số liệu {unit}/{element} đã có ở dòng {first_row} với cùng giá trị",
        "figure {unit}/{element} already given in row {first_row} with the same value",
    ),
    "conflicting_figure": (
        "row",
        "Số liệu {unit}/{element} được ghi {count} lần với giá trị khác nhau (dòng {rows})",
        "figure {unit}/{element} is given {count} times with different values (rows {rows})",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One reason a file or a row is rejected, located in the file."""

    file: str
    code: str
    message_vi: str
    message_en: str
    sheet: str | None = None
    row: int | None = None

    @property
    def scope(self) -> Scope:
        return REASONS[self.code][0]

    def location(self) -> str:
        parts = [printable(self.file)]
        if self.sheet:
            parts.append(self.sheet)
        if self.row is not None:
            parts.append(f"row {self.row}")
        return ":".join(parts) if self.row is None else f"{':'.join(parts[:-1])}, {parts[-1]}"

    def __str__(self) -> str:
        return f"{self.location()}: [{self.code}] {self.message_vi} / {self.message_en}"


def problem(
    file: str,
    reason: str,
    /,
    *,
    sheet: str | None = None,
    row: int | None = None,
    **details: object,
) -> Problem:
    """Build a Problem from the catalogue, filling its templates with `details`."""
    _, vi, en = REASONS[reason]
    shown = {k: printable(v) if isinstance(v, str) else v for k, v in details.items()}
    return Problem(file, reason, vi.format(**shown), en.format(**shown), sheet, row)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Text with its control characters escaped (`\\n`, `\\x1b`): a file name or a cell printed
    or logged stays on its line and cannot forge other lines or move the terminal."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


class FileRejected(Exception):
    """A whole file cannot be taken: it carries the Problem that says why."""

    def __init__(self, rejection: Problem) -> None:
        super().__init__(str(rejection))
        self.problem = rejection
