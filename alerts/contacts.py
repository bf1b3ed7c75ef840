"""Who receives an office's alert: the contacts CSV (unit_code, office_name, email).

`email` may hold several addresses separated by `;`. A unit may also appear on several rows;
their addresses are merged. Problems in the file are collected, not raised: an office without a
usable address is reported and the others still get their alerts.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from core.cycles import Hierarchy
from core.hierarchies import hierarchy_version, hierarchy_versions
from core.reference import AdminUnit, UnitLevel, reference
from core.text import fold_diacritics

CONTACT_COLUMNS = ("unit_code", "office_name", "email")
DEMO_DOMAIN = "example.gov.vn"

_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_SEPARATORS = re.compile(r"\s*[;,]\s*")
_UNIT_PREFIXES = ("thành phố", "thị xã", "thị trấn", "huyện", "quận", "tỉnh", "phường", "xã")


@dataclass(frozen=True)
class Contact:
    unit_code: str
    office_name: str
    emails: tuple[str, ...]


@dataclass
class ContactBook:
    """The contacts file as read, with what was wrong in it."""

    path: Path
    found: bool
    contacts: dict[str, Contact] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def lookup(self, office_code: str, level: UnitLevel) -> Contact | None:
        """The contact of an office; a code that lost its leading zeros in a spreadsheet
        (`1` for district `001`) still matches at the office level's width."""
        contact = self.contacts.get(office_code)
        if contact is not None:
            return contact
        width = 3 if level == "district" else 2
        for code, candidate in self.contacts.items():
            if code.isdigit() and code.zfill(width) == office_code:
                return candidate
        return None


def read_contacts(path: Path) -> ContactBook:
    """Read the contacts file; a missing or malformed file gives an empty book with problems."""
    book = ContactBook(path=path, found=path.is_file())
    if not book.found:
        book.problems.append(
            f"Không có tệp danh bạ / contacts file not found: {path} "
            f"(columns {', '.join(CONTACT_COLUMNS)})"
        )
        return book
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [c for c in CONTACT_COLUMNS if c not in header]
        if missing:
            book.problems.append(
                f"Tệp danh bạ thiếu cột / contacts file {path} lacks columns: {', '.join(missing)}"
            )
            return book
        merged: dict[str, tuple[str, list[str]]] = {}
        for line, raw in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            code = row["unit_code"]
            if not code:
                continue
            name, emails = merged.setdefault(code, (row["office_name"], []))
            for address in _SEPARATORS.split(row["email"]):
                if not address:
                    continue
                if _ADDRESS.match(address):
                    if address not in emails:
                        emails.append(address)
                else:
                    book.problems.append(
                        f"Địa chỉ không hợp lệ / invalid address {address!r} for unit {code} "
                        f"({path.name}, line {line})"
                    )
            if not name and row["office_name"]:
                merged[code] = (row["office_name"], emails)
    book.contacts = {
        code: Contact(code, name, tuple(emails))
        for code, (name, emails) in merged.items()
        if emails
    }
    return book


def write_demo_contacts(
    path: Path, unit_codes: Iterable[str], *, hierarchy: Hierarchy | None = None
) -> Path:
    """Write a plausible contacts file for the given offices (addresses under example.gov.vn).

    A 3-digit code is a district office; a 2-digit code a province office, read in the latest
    hierarchy version where the unit exists. `hierarchy` forces one.
    """
    units = [_office_unit(str(code).strip(), hierarchy) for code in unit_codes]
    units = list({(u.hierarchy, u.code): u for u in units}.values())
    slugs = _unique_slugs(units)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CONTACT_COLUMNS)
        for unit in sorted(units, key=lambda u: u.code):
            name, mailbox = _demo_office(unit)
            writer.writerow([unit.code, name, f"{mailbox}.{slugs[unit]}@{DEMO_DOMAIN}"])
    return path


def display_name(name_vi: str) -> str:
    """'Thành Phố Bắc Kạn' -> 'Thành phố Bắc Kạn' (the seeds are not consistent)."""
    lowered = name_vi.lower()
    for prefix in _UNIT_PREFIXES:
        if lowered.startswith(prefix + " "):
            return prefix.capitalize() + name_vi[len(prefix) :]
    return name_vi


def in_sentence(name_vi: str) -> str:
    """'Huyện Như Xuân' -> 'huyện Như Xuân', for use after an office's title."""
    name = display_name(name_vi)
    return name[:1].lower() + name[1:]


def _office_unit(code: str, hierarchy: Hierarchy | None) -> AdminUnit:
    ref = reference()
    level: UnitLevel = "district" if len(code) == 3 else "province"
    for version in reversed(hierarchy_versions()):  # the latest version first
        if hierarchy in (None, version.id) and (unit := ref.unit(version.id, level, code)):
            return unit
    raise ValueError(f"{code!r} is no district (3 digits) or province (2 digits) office code")


def _demo_office(unit: AdminUnit) -> tuple[str, str]:
    """The office that follows up children's reporting, and its mailbox prefix."""
    if unit.level == "district":
        return f"Phòng Lao động - Thương binh và Xã hội {in_sentence(unit.name_vi)}", "ldtbxh"
    if hierarchy_version(unit.hierarchy).agency_level == "province":
        # Since March 2025, before the province became the agency level in July, child
        # protection belongs to the health sector (Sở Y tế).
        return f"Sở Y tế {in_sentence(unit.name_vi)}", "syt"
    return f"Sở Lao động - Thương binh và Xã hội {in_sentence(unit.name_vi)}", "sldtbxh"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold_diacritics(text).lower())


def _base_slug(unit: AdminUnit) -> str:
    name = display_name(unit.name_vi)
    lowered = name.lower()
    for prefix in _UNIT_PREFIXES:
        if lowered.startswith(prefix + " "):
            rest = name[len(prefix) + 1 :]
            # 'Quận 1' -> 'quan1', not '1'
            return _slug(name) if rest.strip().isdigit() else _slug(rest)
    return _slug(name)


def _unique_slugs(units: list[AdminUnit]) -> dict[AdminUnit, str]:
    """Many districts share a name (Huyện Châu Thành): add the province, then the code."""
    ref = reference()
    slugs = {u: _base_slug(u) for u in units}
    counts: dict[str, int] = {}
    for slug in slugs.values():
        counts[slug] = counts.get(slug, 0) + 1
    for unit, slug in list(slugs.items()):
        if counts[slug] > 1 and unit.level == "district":
            province = ref.unit(unit.hierarchy, "province", unit.province_code)
            slugs[unit] = f"{slug}.{_base_slug(province) if province else unit.province_code}"
    seen: dict[str, int] = {}
    for slug in slugs.values():
        seen[slug] = seen.get(slug, 0) + 1
    return {u: (f"{s}.{u.code}" if seen[s] > 1 else s) for u, s in slugs.items()}
