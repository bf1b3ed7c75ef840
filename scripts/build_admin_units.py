"""Build the administrative-hierarchy seeds from the published `vietnamadminunits` data.

Run once per release of that package (it is not a runtime dependency):

    pip download vietnamadminunits==1.0.4 --no-deps -d /tmp/vau && \
        python scripts/build_admin_units.py /tmp/vau/vietnamadminunits-1.0.4-py3-none-any.whl

It writes `dbt_project/seeds/admin_units.csv` (the hierarchy versions of
`dbt_project/seeds/hierarchies.csv` built from the package, by their `source` table: before and
after the 1 July 2025 reform, with the versions' validity) and
`dbt_project/seeds/commune_successions.csv` (the official old -> new commune mapping). Both
files are committed; the warehouse reads them as dbt seeds and ingest reads them to check
reporters' jurisdictions.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"
# The package's two tables: the units before the reform, and after it.
LEGACY, CURRENT = "admin_units_legacy", "admin_units"
URBAN_TYPES = {"Phường", "Thị trấn"}


def fold(text: str) -> str:
    """Vietnamese name without diacritics ("Đồng Tháp" -> "Dong Thap")."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def unit_type(published_type: str | None, full_name: str) -> str:
    """The unit's type as the Vietnamese name writes it ("Thị trấn", "Thành phố"): the
    published type column, in sentence case (the source mixes "Thị Trấn" and "Thị trấn")."""
    text = (published_type or "").strip()
    if not text:  # provinces have no type column: the name says it
        text = "Thành phố" if full_name.startswith("Thành phố") else "Tỉnh"
    return text[:1].upper() + text[1:].lower()


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "dataset.db"
        db_path.write_bytes(zf.read("vietnamadminunits/data/dataset.db"))
        converter = json.loads(zf.read("vietnamadminunits/data/converter_2025.json"))
        con = sqlite3.connect(db_path)
        con.row_factory = sqlite3.Row
        legacy = list(con.execute(f"select * from {LEGACY} order by wardCode"))
        current = list(con.execute(f"select * from {CURRENT} order by wardCode"))

    # Each version's id and validity come from the seed hierarchies.csv, by its source table.
    with (SEEDS / "hierarchies.csv").open(encoding="utf-8", newline="") as handle:
        versions = {v["source"]: v for v in csv.DictReader(handle)}
    pre, post = versions[LEGACY]["hierarchy"], versions[CURRENT]["hierarchy"]
    validity = {v["hierarchy"]: (v["valid_from"], v["valid_to"]) for v in versions.values()}
    units: dict[tuple[str, str, str], dict[str, str]] = {}

    def add(
        hierarchy: str, level: str, code: str, full: str, kind: str | None, **extra: str
    ) -> None:
        key = (hierarchy, level, code)
        if key in units:
            return
        units[key] = {
            "hierarchy": hierarchy,
            "unit_level": level,
            "unit_code": code,
            "name_vi": full,
            "name_ascii": fold(full),
            "unit_type_vi": unit_type(kind, full),
            "area_type": "",
            "district_code": "",
            "province_code": "",
            "parent_code": "",
            "valid_from": validity[hierarchy][0],
            "valid_to": validity[hierarchy][1],
            **extra,
        }

    for r in legacy:
        p, d = r["provinceCode"], r["districtCode"]
        add(pre, "province", p, r["province"], None, province_code=p)
        add(
            pre,
            "district",
            d,
            r["district"],
            r["districtType"],
            province_code=p,
            district_code=d,
            parent_code=p,
        )
        if r["wardCode"]:  # the five island districts have no communes
            add(
                pre,
                "commune",
                r["wardCode"],
                r["ward"],
                r["wardType"],
                area_type="urban" if unit_type(r["wardType"], "") in URBAN_TYPES else "rural",
                province_code=p,
                district_code=d,
                parent_code=d,
            )
    for r in current:
        p = r["provinceCode"]
        add(post, "province", p, r["province"], None, province_code=p)
        # "Đặc khu" (island special zones) are counted as rural, like "xã".
        add(
            post,
            "commune",
            r["wardCode"],
            r["ward"],
            r["wardType"],
            area_type="urban" if unit_type(r["wardType"], "") in URBAN_TYPES else "rural",
            province_code=p,
            parent_code=p,
        )

    fields = list(next(iter(units.values())))
    order = {"province": 0, "district": 1, "commune": 2}
    rows = sorted(
        units.values(),
        key=lambda u: (u["hierarchy"] != pre, order[u["unit_level"]], u["unit_code"]),
    )
    write_csv(SEEDS / "admin_units.csv", fields, rows)

    # Old -> new communes. Keys are the package's folded names: province_district_ward.
    old_code = {
        f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}": r["wardCode"] or ""
        for r in legacy
    }
    new_code = {
        (r["provinceKey"], r["wardKey"]): (r["wardCode"], r["provinceCode"]) for r in current
    }
    successions: list[dict[str, str]] = []
    for new_province, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward, old_keys in wards.items():
            code, province = new_code[(new_province, new_ward)]
            for old_key in old_keys:
                if old_code.get(old_key):
                    successions.append(
                        {
                            "hierarchy": post,
                            "old_commune_code": old_code[old_key],
                            "new_commune_code": code,
                            "new_province_code": province,
                            "old_commune_divided": "false",
                            "is_main_successor": "true",
                        }
                    )
    for new_province, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in divided.items():
            if not old_code.get(old_key):
                continue
            for part in parts:
                code, province = new_code[(new_province, part["newWardKey"])]
                successions.append(
                    {
                        "hierarchy": post,
                        "old_commune_code": old_code[old_key],
                        "new_commune_code": code,
                        "new_province_code": province,
                        "old_commune_divided": "true",
                        "is_main_successor": str(part["isDefaultNewWard"]).lower(),
                    }
                )
    successions = sorted(
        {tuple(s.items()): s for s in successions}.values(),
        key=lambda s: (s["old_commune_code"], s["new_commune_code"]),
    )
    write_csv(SEEDS / "commune_successions.csv", list(successions[0]), successions)
    levels: dict[tuple[str, str], int] = {}
    for u in rows:
        levels[(u["hierarchy"], u["unit_level"])] = (
            levels.get((u["hierarchy"], u["unit_level"]), 0) + 1
        )
    print(levels, "successions:", len(successions))


def write_csv(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
