"""The contacts file: reading what offices maintain, and the demo's."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from alerts.contacts import read_contacts, write_demo_contacts


def test_write_demo_contacts(tmp_path: Path) -> None:
    path = write_demo_contacts(tmp_path / "contacts.csv", ["402", "38"])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [
        "unit_code,office_name,email",
        "38,Sở Y tế tỉnh Thanh Hóa,syt.thanhhoa@example.gov.vn",
        "402,Phòng Lao động - Thương binh và Xã hội huyện Như Xuân,ldtbxh.nhuxuan@example.gov.vn",
    ]


def test_demo_addresses_are_unique_across_the_country(tmp_path: Path) -> None:
    from core.reference import reference

    districts = [u.code for u in reference().units_at("pre_reform", "district")]
    path = write_demo_contacts(tmp_path / "contacts.csv", districts)
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(districts)
    emails = [r["email"] for r in rows]
    assert len(set(emails)) == len(emails)
    assert all(e.endswith("@example.gov.vn") and e.isascii() for e in emails)
    # several 'Huyện Châu Thành': told apart by their province
    assert "ldtbxh.chauthanh.tiengiang@example.gov.vn" in emails
    by_code = {r["unit_code"]: r for r in rows}
    assert by_code["760"]["email"] == "ldtbxh.quan1@example.gov.vn"
    assert by_code["058"]["office_name"] == (
        "Phòng Lao động - Thương binh và Xã hội thành phố Bắc Kạn"
    )
    assert read_contacts(path).problems == []


def test_unknown_office_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'999'"):
        write_demo_contacts(tmp_path / "contacts.csv", ["999"])


def test_read_contacts(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "\ufeffunit_code,office_name,email\r\n"
        "402,Phòng LĐ-TB&XH huyện Như Xuân,a@example.gov.vn; b@example.gov.vn\r\n"
        "402,,c@example.gov.vn;a@example.gov.vn\r\n"
        "403,Phòng LĐ-TB&XH huyện Như Thanh,not-an-address\r\n"
        "1,Phòng LĐ-TB&XH quận Ba Đình,badinh@example.gov.vn\r\n"
        ",,\r\n",
        encoding="utf-8",
    )
    book = read_contacts(path)
    contact = book.lookup("402", "district")
    assert contact is not None
    assert contact.office_name == "Phòng LĐ-TB&XH huyện Như Xuân"
    assert contact.emails == ("a@example.gov.vn", "b@example.gov.vn", "c@example.gov.vn")
    assert book.lookup("403", "district") is None
    assert book.problems == [
        "Địa chỉ không hợp lệ / invalid address 'not-an-address' for unit 403 "
        "(contacts.csv, line 4)"
    ]
    # a spreadsheet dropped the leading zeros of district 001
    badinh = book.lookup("001", "district")
    assert badinh is not None and badinh.emails == ("badinh@example.gov.vn",)


def test_missing_file_and_missing_columns(tmp_path: Path) -> None:
    missing = read_contacts(tmp_path / "nowhere.csv")
    assert not missing.found and missing.contacts == {}
    assert "contacts file not found" in missing.problems[0]

    bad = tmp_path / "bad.csv"
    bad.write_text("code,mail\n402,a@example.gov.vn\n", encoding="utf-8")
    book = read_contacts(bad)
    assert book.contacts == {}
    assert "lacks columns: unit_code, office_name, email" in book.problems[0]
