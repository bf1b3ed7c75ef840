"""Reading a return file (xlsx or csv) into its header fields and figure rows.

Readers only read: they check the shape of the file (sheets, columns, encoding) and raise
FileRejected when it cannot be read; the contract's rules are checked in `ingest.contract`.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from core.text import fold_diacritics
from ingest import limits
from ingest.problems import FileRejected, problem

INFO_SHEET, DATA_SHEET = "ThongTin", "SoLieu"
REQUIRED_DATA_COLUMNS = ("unit_code", "element_code", "value")
REQUIRED_CSV_COLUMNS = ("cycle", "reporter_code", "unit_code", "element_code", "value")
INFO_KEYS = ("cycle", "reporter_code", "reporter_name", "submitted_on", "form_version")


class RawRow(NamedTuple):
    """One figure row as found in the file, before any rule is applied (a tuple: a national
    ingest makes half a million, and a frozen dataclass costs three times as much to build)."""

    sheet: str | None
    row: int  # as a spreadsheet shows it: the header is row 1 of a CSV
    unit: object
    element: object
    value: object
    note: str | None = None
    formula_error: str | None = None  # an Excel error cell or a formula without a result


@dataclass
class ParsedReturn:
    file_name: str
    file_format: str
    cycle: object = None
    reporter: object = None
    reporter_name: str | None = None
    # every distinct submitted_on given, with the row it first appears in
    submitted_on: dict[object, int | None] = field(default_factory=dict)
    form_version: str | None = None
    rows: list[RawRow] = field(default_factory=list)
    # for CSV: every distinct cycle / reporter seen, to reject mixed files
    cycles_seen: set[str] = field(default_factory=set)
    reporters_seen: set[str] = field(default_factory=set)


def _key(text: object) -> str:
    """Header and sheet names compared loosely: 'Số liệu' == 'SoLieu' == 'so_lieu'."""
    return _text_key(text if isinstance(text, str) else str(text or ""))


@functools.lru_cache(maxsize=256)
def _text_key(text: str) -> str:
    """`_key` of a text: every return repeats the same few sheet names and headers, and
    folding diacritics costs more than the rest of reading their cells."""
    folded = fold_diacritics(text).strip().lower()
    return re.sub(r"[\s_\-]+", "_", folded).replace("\ufeff", "")


def _sheet_key(text: object) -> str:
    return _key(text).replace("_", "")


def read_return(file_name: str, data: bytes) -> ParsedReturn:
    """Read a return's bytes; the format is decided by the name's extension."""
    lower = file_name.lower()
    if not data:
        raise FileRejected(problem(file_name, "empty_file"))
    if lower.endswith(".xlsx"):
        return read_xlsx(file_name, data)
    if lower.endswith(".csv"):
        return read_csv(file_name, data)
    raise FileRejected(problem(file_name, "unsupported_format"))


# -- xlsx ----------------------------------------------------------------------------------------
def read_xlsx(file_name: str, data: bytes) -> ParsedReturn:
    from python_calamine import CalamineWorkbook

    parts = _inflate_checked(file_name, data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several error types for a bad file
        raise FileRejected(problem(file_name, "unreadable_file", detail=_short(exc))) from exc
    sheets = {_sheet_key(name): name for name in workbook.sheet_names}
    parsed = ParsedReturn(file_name, "xlsx")
    for wanted in (INFO_SHEET, DATA_SHEET):
        if _sheet_key(wanted) not in sheets:
            raise FileRejected(problem(file_name, "missing_sheet", missing=wanted))

    info_name = sheets[_sheet_key(INFO_SHEET)]
    for index, cells in enumerate(
        workbook.get_sheet_by_name(info_name).to_python(skip_empty_area=False)
    ):
        if len(cells) < 2:
            continue
        key = _key(cells[0])
        if key == "cycle":
            parsed.cycle = cells[1]
        elif key == "reporter_code":
            parsed.reporter = cells[1]
        elif key == "reporter_name":
            parsed.reporter_name = str(cells[1]).strip() or None
        elif key == "submitted_on":
            if not _blank(cells[1]):
                parsed.submitted_on[cells[1]] = index + 1
        elif key == "form_version":
            parsed.form_version = str(cells[1]).strip() or None
    for required in ("cycle", "reporter_code"):
        value = parsed.cycle if required == "cycle" else parsed.reporter
        if value in (None, ""):
            raise FileRejected(
                problem(file_name, "missing_field", sheet=INFO_SHEET, field=required)
            )

    data_name = sheets[_sheet_key(DATA_SHEET)]
    rows = workbook.get_sheet_by_name(data_name).to_python(skip_empty_area=False)
    header_index, columns = _find_header(rows)
    missing = [c for c in REQUIRED_DATA_COLUMNS if c not in columns]
    if header_index is None or missing:
        raise FileRejected(
            problem(
                file_name,
                "missing_column",
                sheet=DATA_SHEET,
                columns=", ".join(missing or REQUIRED_DATA_COLUMNS),
            )
        )
    sheet_xml = _sheet_xml(parts, data_name)
    errors = _formula_errors(sheet_xml) if b"<f" in sheet_xml else {}
    unit_col, element_col, value_col = (columns[c] for c in REQUIRED_DATA_COLUMNS)
    note_col = columns.get("note")
    for number, cells in enumerate(rows[header_index + 1 :], start=header_index + 2):
        unit, element, value = cells[unit_col], cells[element_col], cells[value_col]
        if _blank(unit) and _blank(element) and _blank(value):
            continue
        parsed.rows.append(
            RawRow(
                DATA_SHEET,
                number,
                unit,
                element,
                value,
                str(cells[note_col]).strip() or None if note_col is not None else None,
                errors.get((number, value_col)),
            )
        )
    return parsed


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CELL_REF = re.compile(rb'r="([A-Z]{1,3})(\d{1,7})"')  # cell references, in any tag order


def _inflate_checked(file_name: str, data: bytes) -> dict[str, bytes]:
    """A workbook's parts, refused before calamine opens it when it is: an OLE file (encrypted,
    or an old .xls); a zip whose declared sizes sum past the limit (Python inflates a part only
    up to its declared size, and a part hiding more fails its CRC check); a sheet whose cells
    span an area calamine would allocate densely (one cell at XFD1048576 is 17 billion)."""
    if data.startswith(_OLE_MAGIC):
        encrypted = "EncryptedPackage".encode("utf-16-le") in data
        raise FileRejected(problem(file_name, "encrypted_workbook" if encrypted else "legacy_xls"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if sum(i.file_size for i in infos) > limits.MAX_INFLATED_BYTES:
                raise FileRejected(
                    problem(file_name, "xlsx_too_large", limit=f"{limits.MAX_INFLATED_BYTES:,}")
                )
            parts = {i.filename: zf.read(i) for i in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise FileRejected(problem(file_name, "unreadable_file", detail=_short(exc))) from exc
    for name, content in parts.items():
        if name.startswith("xl/worksheets/") and (refs := _CELL_REF.findall(content)):
            letters, digits = zip(*refs, strict=True)
            max_row = max(map(int, digits))
            max_col = max(map(_column_index, set(letters))) + 1
            if max_row > limits.MAX_ROWS + _HEADER_ROWS:
                raise FileRejected(
                    problem(file_name, "too_many_rows", limit=f"{limits.MAX_ROWS:,}")
                )
            if max_row * max_col > limits.MAX_SHEET_CELLS:
                raise FileRejected(
                    problem(
                        file_name,
                        "sheet_too_large",
                        rows=f"{max_row:,}",
                        columns=f"{max_col:,}",
                        limit=f"{limits.MAX_SHEET_CELLS:,}",
                    )
                )
    return parts


_HEADER_ROWS = 20
"""Rows searched for the data sheet's header."""


def _find_header(rows: Sequence[Sequence[object]]) -> tuple[int | None, dict[str, int]]:
    """The header is the first row naming `element_code` (normally row 1)."""
    for index, cells in enumerate(rows[:_HEADER_ROWS]):
        keys = [_key(c) for c in cells]
        if "element_code" in keys:
            return index, {k: i for i, k in reversed(list(enumerate(keys))) if k}
    return None, {}


def _sheet_xml(parts: dict[str, bytes], sheet_name: str) -> bytes:
    """The worksheet XML behind a sheet name (through workbook.xml and its relationships)."""
    workbook = parts.get("xl/workbook.xml", b"").decode("utf-8", "replace")
    rels = parts.get("xl/_rels/workbook.xml.rels", b"").decode("utf-8", "replace")
    for match in re.finditer(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        tag = match.group(0)
        name = re.search(r'name="([^"]*)"', tag)
        rid = re.search(r'r:id="([^"]*)"', tag)
        if name and rid and _unescape(name.group(1)) == sheet_name:
            target = re.search(
                rf'Id="{re.escape(rid.group(1))}"[^>]*Target="([^"]*)"', rels
            ) or re.search(rf'Target="([^"]*)"[^>]*Id="{re.escape(rid.group(1))}"', rels)
            if target:
                path = target.group(1).lstrip("/")
                path = path if path.startswith("xl/") else f"xl/{path}"
                return parts.get(path, b"")
    return b""


_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)


def _formula_errors(sheet_xml: bytes) -> dict[tuple[int, int], str]:
    """Cells whose formula gave an Excel error or no result: calamine reads both as blank."""
    found: dict[tuple[int, int], str] = {}
    for match in _CELL.finditer(sheet_xml):
        attrs, body = match.group(1), match.group(2) or b""
        if b"<f" not in body:
            continue
        ref = re.search(rb'r="([A-Z]+)(\d+)"', attrs)
        if not ref:
            continue
        value = re.search(rb"<v>(.*?)</v>", body, re.S)
        if b't="e"' in attrs:
            shown = value.group(1).decode() if value else "#ERROR"
        elif value is None:
            shown = "=" + (re.search(rb"<f[^>]*>(.*?)</f>", body, re.S) or [b"", b""])[1].decode()
        else:
            continue
        found[(int(ref.group(2)), _column_index(ref.group(1)))] = shown
    return found


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - 64)
    return index - 1


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


# -- csv -----------------------------------------------------------------------------------------
_ROW_LIKE = len(REQUIRED_CSV_COLUMNS) - 1
"""Delimiters on a line that make it look like a row of figures."""


def _decode_csv(file_name: str, data: bytes) -> str:
    """UTF-8 (with or without its mark), or UTF-16 with its mark: what Excel's "CSV UTF-8" and
    "Unicode Text" save."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileRejected(
                problem(
                    file_name, "not_utf8", found_vi=" (UTF-16 hỏng)", found_en=" (broken UTF-16)"
                )
            ) from exc
    head = data[:1024]
    if head.count(b"\x00") * 4 >= len(head):  # every other byte zero: UTF-16 without its mark
        raise FileRejected(
            problem(
                file_name,
                "not_utf8",
                found_vi=" (UTF-16 không có dấu BOM)",
                found_en=" (UTF-16 without its byte-order mark)",
            )
        )
    if data[:2] == b"PK" or b"\x00" in head:
        raise FileRejected(problem(file_name, "unreadable_file", detail="binary content, not text"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(problem(file_name, "not_utf8", found_vi="", found_en="")) from exc


def read_csv(file_name: str, data: bytes) -> ParsedReturn:
    text = _decode_csv(file_name, data)
    if not text.strip():
        raise FileRejected(problem(file_name, "empty_file"))
    if "\x00" in text:  # past the first 1,024 bytes: a damaged file (PostgreSQL refuses NUL)
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise FileRejected(
            problem(file_name, "unreadable_file", detail=f"NUL character on line {line}")
        )
    first = next(line for line in text.splitlines() if line.strip())
    delimiter = max(",;\t", key=first.count)  # the most frequent; ',' on a tie
    # The field limit is ours (checked below, with the line): csv's own would raise a bare
    # `_csv.Error` past 131,072 characters. The file is already bounded by MAX_FILE_BYTES.
    csv.field_size_limit(max(limits.MAX_FILE_BYTES, csv.field_size_limit()))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    parsed = ParsedReturn(file_name, "csv")
    header: dict[str, int] = {}
    record = 0
    while True:
        line = reader.line_num + 1  # where the next record starts
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise FileRejected(
                problem(file_name, "malformed_csv", line=line, detail=_short(exc))
            ) from exc
        record += 1
        if reader.line_num > line or len(max(cells, key=len, default="")) > limits.MAX_FIELD_CHARS:
            _check_fields(file_name, cells, line, reader.line_num, delimiter)
        if record > limits.MAX_ROWS + 1:
            raise FileRejected(problem(file_name, "too_many_rows", limit=f"{limits.MAX_ROWS:,}"))
        if not any(c.strip() for c in cells):
            continue
        if not header:
            keys = [_key(c) for c in cells]
            header = {k: i for i, k in reversed(list(enumerate(keys))) if k}
            missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
            if missing:
                raise FileRejected(problem(file_name, "missing_column", columns=", ".join(missing)))
            continue

        def cell(name: str, cells: list[str] = cells, columns: dict[str, int] = header) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        cycle, reporter = cell("cycle"), cell("reporter_code")
        if cycle:
            parsed.cycles_seen.add(cycle)
        if reporter:
            parsed.reporters_seen.add(reporter)
        submitted = cell("submitted_on")
        if submitted:
            parsed.submitted_on.setdefault(submitted, record)
        parsed.rows.append(
            RawRow(
                sheet=None,
                row=record,
                unit=cell("unit_code"),
                element=cell("element_code"),
                value=cell("value"),
                note=cell("note") or None,
            )
        )
    if parsed.cycles_seen:
        parsed.cycle = sorted(parsed.cycles_seen)[0]
    if parsed.reporters_seen:
        parsed.reporter = sorted(parsed.reporters_seen)[0]
    return parsed


def _check_fields(file_name: str, cells: list[str], first: int, last: int, delimiter: str) -> None:
    """A record spanning lines is a quoted field with line breaks: a note written on several
    lines is fine, but a quote never closed swallows the rows after it into one field (what
    follows its line break then looks like rows). Fields longer than an Excel cell are refused."""
    for cell in cells:
        if last > first and "\n" in cell:
            swallowed = cell.split("\n")[1:]
            if any(part.count(delimiter) >= _ROW_LIKE for part in swallowed):
                raise FileRejected(
                    problem(file_name, "unclosed_quote", line=first, swallowed=last - first)
                )
        if len(cell) > limits.MAX_FIELD_CHARS:
            raise FileRejected(
                problem(
                    file_name, "field_too_long", line=first, limit=f"{limits.MAX_FIELD_CHARS:,}"
                )
            )


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
