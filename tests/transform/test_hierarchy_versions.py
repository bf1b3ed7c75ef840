"""Hierarchies are data: a third version (a synthetic 2031 merger of Điện Biên into Lai Châu)
added to a copy of the seeds, and nothing else, moves the roll-ups and the alerts' offices."""

from __future__ import annotations

import csv
import itertools
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

import core.hierarchies
from alerts.compose import compose_alerts
from alerts.contacts import read_contacts, write_demo_contacts
from core.cycles import Cycle
from core.hierarchies import hierarchy_versions
from core.reference import reference
from cycle import transform
from ingest.pipeline import ingest_cycle
from tests.conftest import set_received, write_csv
from tests.transform.conftest import read, settings_under

MERGER = "merger_2031"
KEPT, MERGED = "12", "11"
"""Lai Châu takes over Điện Biên's communes, which keep their codes."""
COMMUNES = {KEPT: "03388", MERGED: "03127"}


def test_the_versions_follow_each_other_and_report_from_the_level_above_communes() -> None:
    versions = hierarchy_versions()
    for before, after in itertools.pairwise(versions):
        assert before.valid_to == after.valid_from - timedelta(days=1)
    assert versions[-1].valid_to is None
    for version in versions:
        # qa_*_checks name an agency after the commune's parent unit (macros/check_tables.sql)
        assert version.levels[-2:] == (version.agency_level, "commune")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _add_merger(seeds: Path) -> list[str]:
    """The merger as seed rows: a version from 2031 (the current one ends the day before), its
    units (only the two provinces, to keep the build small) and its successions. Returns the
    codes of the merged province's communes."""
    versions = _rows(seeds / "hierarchies.csv")
    current = versions[-1]
    current["valid_to"] = "2030-12-31"
    versions.append(
        {
            **current,
            "hierarchy": MERGER,
            "valid_from": "2031-01-01",
            "valid_to": "",
            "label_vi": "Từ 01/01/2031: xã → tỉnh",
            "label_en": "From 1 January 2031: commune → province",
            "source": "synthetic",
        }
    )
    _write(seeds / "hierarchies.csv", versions)

    units = [
        {**u, "valid_to": "2030-12-31"}
        for u in _rows(seeds / "admin_units.csv")
        if u["hierarchy"] == current["hierarchy"] and u["province_code"] in (KEPT, MERGED)
    ]
    merged = [
        {**u, "hierarchy": MERGER, "valid_from": "2031-01-01", "valid_to": ""}
        for u in units
        if u["unit_code"] != MERGED
    ]
    for unit in merged:
        if unit["unit_level"] == "commune":
            unit.update(province_code=KEPT, parent_code=KEPT)
        else:
            unit["name_vi"] = "Tỉnh Lai Châu - Điện Biên"
    _write(seeds / "admin_units.csv", units + merged)
    communes = [u for u in merged if u["unit_level"] == "commune"]
    _write(
        seeds / "commune_successions.csv",
        [
            {
                "hierarchy": MERGER,
                "old_commune_code": u["unit_code"],
                "new_commune_code": u["unit_code"],
                "new_province_code": KEPT,
                "old_commune_divided": "false",
                "is_main_successor": "true",
            }
            for u in communes
        ],
    )
    return [u["unit_code"] for u in communes]


@pytest.fixture
def merger_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A copy of the dbt project whose seeds hold the merger; Python reads the same copy."""
    project = tmp_path / "dbt_project"
    shutil.copytree(
        transform.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    communes = _add_merger(project / "seeds")
    monkeypatch.setattr(transform, "DBT_PROJECT_DIR", project)
    monkeypatch.setattr(core.hierarchies, "SEEDS_DIR", project / "seeds")
    hierarchy_versions.cache_clear()
    reference.cache_clear()
    yield communes
    hierarchy_versions.cache_clear()
    reference.cache_clear()


def test_a_third_version_added_as_data_moves_roll_ups_and_alerts(
    tmp_path: Path, merger_project: list[str]
) -> None:
    cycle = Cycle.parse("2031-Y")
    assert cycle.hierarchy == MERGER and cycle.version.agency_level == "province"

    settings = settings_under(tmp_path)
    header = ("cycle", "reporter_code", "unit_code", "element_code", "value", "submitted_on")
    for province, commune in COMMUNES.items():
        path = write_csv(
            settings.inbox / cycle.id / f"{commune}.csv",
            header,
            [(cycle.id, commune, commune, "pop_children", 100 + int(province), "2031-12-01")],
        )
        set_received(path, datetime(2031, 12, 2))
    ingest_cycle(settings, cycle)
    transform.run_transform(settings, cycle, full_refresh=True)

    # roll-up: both communes count in the one province of the new version
    provinces = read(
        settings,
        "select unit_code, value from marts.fct_element_values where cycle = '2031-Y'"
        " and unit_level = 'province' and element_code = 'pop_children'",
    )
    assert provinces.values.tolist() == [[KEPT, 100 + int(KEPT) + 100 + int(MERGED)]]
    expected = read(
        settings,
        "select distinct hierarchy, reporter_code from marts.fct_return_status"
        " where cycle = '2031-Y'",
    )
    assert set(expected["hierarchy"]) == {MERGER}
    assert set(expected["reporter_code"]) == set(merger_project) | {
        f"{KEPT}-{agency}" for agency in ("health", "education", "police")
    }

    # jurisdiction: the kept province's office gets every missing reporter of both
    contacts = write_demo_contacts(settings.contacts, [KEPT])
    assert "Lai Châu - Điện Biên" in contacts.read_text(encoding="utf-8")
    status = read(settings, "select * from marts.fct_return_status where cycle = '2031-Y'")
    plan = compose_alerts(cycle, status, status.iloc[0:0], read_contacts(contacts))
    assert [(a.office_code, a.office_level) for a in plan.alerts] == [(KEPT, "province")]
    missing = {r.code for r in plan.alerts[0].reporters if r.missing}
    assert missing == set(expected["reporter_code"]) - set(COMMUNES.values())
