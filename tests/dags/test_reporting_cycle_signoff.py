"""Sign-off in Airflow: a real `reporting_cycle` run (`airflow dags test`, which waits for
Human-in-the-loop answers given from outside) beside a real `airflow api-server` on the same
metadata database. The offices answer their Required actions through the REST API, as the UI
does; the warehouse's audit table then holds what `cycle approve` would have recorded, under
the Airflow user's name, and the final reports say who approved them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.cycles import Cycle
from core.settings import Settings
from core.warehouse import Warehouse
from cycle import steps
from tests.dags.airflow_support import (
    AIRFLOW,
    ApiServer,
    airflow,
    airflow_env,
    api_server,
    wait_for,
)
from tests.transform.conftest import settings_under

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("airflow")]

CYCLE = Cycle.parse("2024-Y")
PROVINCE = "12"
"""Lai Châu, before the reform: eight districts, then the province after them."""
APPROVED_BY_CLI = "105"
APPROVED_MEANWHILE = "107"


def _clean_province(base: Path) -> Settings:
    """One province's cycle, every return in and no error finding: every district is ready."""
    from devtools.generator import generate_inbox
    from devtools.generator.inbox import ProblemRates

    settings = settings_under(base)
    generate_inbox(
        settings.inbox,
        [CYCLE.id],
        provinces=[PROVINCE],
        file_format="csv",
        seed=7,
        rates=ProblemRates.clean(),
    )
    steps.run(settings, [CYCLE], dry_run_alerts=True)
    return settings


def _audit(settings: Settings) -> list[tuple[Any, ...]]:
    with Warehouse(settings.warehouse).connect(read_only=True) as con:
        return con.query(
            "select unit_code, action, actor, via, comment, revision from ops.signoff_actions"
            " where cycle = ? order by recorded_at, unit_code",
            [CYCLE.id],
        )


def _waiting(api: ApiServer, user: str, units: list[str]) -> list[dict[str, Any]]:
    """The run's Required actions once they are those of `units` (by map index label)."""
    actions = api.required_actions(user, "reporting_cycle")
    labels = sorted(a["task_instance"]["rendered_map_index"].split()[0] for a in actions)
    return actions if labels == units else []


def test_offices_approve_in_airflow_through_the_rest_api(tmp_path: Path) -> None:
    from cycle import signoff

    settings = _clean_province(tmp_path / "world")
    units = {u.unit_code: u for u in signoff.unit_signoffs(settings, CYCLE)}
    districts = sorted(c for c, u in units.items() if u.unit_level == "district")
    assert len(districts) == 8 and all(units[c].ready for c in districts), units
    # One district approved on the command line before the run: Airflow asks it nothing.
    signoff.approve(settings, CYCLE, APPROVED_BY_CLI, by="engineer", comment="by phone")

    users = {f"office_{c}": "user" for c in districts} | {"province_12": "user"}
    env = airflow_env(tmp_path / "airflow", users, settings.as_env())
    airflow(env, "db", "migrate")
    conf = {"cycle": CYCLE.id, "signoff": True, "dry_run_alerts": True}
    run_log = tmp_path / "dags_test.log"
    with api_server(env, tmp_path / "api_server.log") as api, run_log.open("wb") as out:
        run = subprocess.Popen(
            [AIRFLOW, "dags", "test", "reporting_cycle", "-c", json.dumps(conf)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            # dags test parks the mapped questions one after the other
            expected = [c for c in districts if c != APPROVED_BY_CLI]
            offices = wait_for(lambda: _waiting(api, "office_106", expected), 600)
            assert offices, run_log.read_text(errors="replace")[-5000:]
            action = {a["task_instance"]["rendered_map_index"].split()[0]: a for a in offices}
            first = action["106"]
            assert first["options"] == list(steps.SIGNOFF_OPTIONS)
            assert first["defaults"] == [steps.SIGNOFF_NOT_APPROVED]
            assert "Huyện Tam Đường" in first["subject"] and CYCLE.id in first["subject"]
            assert str(settings.reports / CYCLE.id / "district_106_") in first["body"]

            # The first answer is recorded, and its report written, while the others wait.
            reports = settings.reports / CYCLE.id
            first_answer = {"comment": "Đã rà soát / checked (106)"}
            api.answer("office_106", first, steps.SIGNOFF_APPROVE, first_answer)
            signed = wait_for(
                lambda: "bởi office_106" in _signoff_banner(reports, "district_106_"), 300
            )
            assert signed, run_log.read_text(errors="replace")[-5000:]
            assert len(api.required_actions("office_108", "reporting_cycle")) == len(action) - 1

            # Approved on the command line while its question waits: the answer adds nothing.
            signoff.approve(settings, CYCLE, APPROVED_MEANWHILE, by="engineer")
            for code, question in action.items():
                if code == "106":
                    continue
                answered = api.answer(
                    f"office_{code}",
                    question,
                    steps.SIGNOFF_APPROVE,
                    {"comment": f"Đã rà soát / checked ({code})"},
                )
                assert answered["responded_by"]["name"] == f"office_{code}"

            # The province's question comes once all its districts are approved; it says no.
            province = wait_for(lambda: _waiting(api, "province_12", [PROVINCE]), 600)
            assert province, run_log.read_text(errors="replace")[-5000:]
            api.answer(
                "province_12",
                province[0],
                steps.SIGNOFF_NOT_APPROVED,
                {"comment": "Chờ số liệu xã Mường Tè / waiting for a commune's figures"},
            )
            assert run.wait(timeout=600) == 0
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    log = run_log.read_text(errors="replace")
    assert "state=success" in log, log[-5000:]
    assert "not approved by province_12: Chờ số liệu" in log

    audit = _audit(settings)
    assert audit[0] == (APPROVED_BY_CLI, "approve", "engineer", "cli", "by phone", 1)
    meanwhile = [row for row in audit if row[0] == APPROVED_MEANWHILE]
    assert meanwhile == [(APPROVED_MEANWHILE, "approve", "engineer", "cli", None, 1)]
    by_airflow = {row[0]: row for row in audit if row[3] == "airflow"}
    assert sorted(by_airflow) == [c for c in districts if c not in (APPROVED_BY_CLI, "107")]
    assert by_airflow["106"] == (
        "106",
        "approve",
        "office_106",
        "airflow",
        "Đã rà soát / checked (106)",
        1,
    )
    assert len(audit) == len(districts)  # nothing for 107's answer, nothing for the province's
    after = {u.unit_code: u for u in signoff.unit_signoffs(settings, CYCLE)}
    assert after["106"].state == "approved" and after["106"].approved_by == "office_106"
    assert after[PROVINCE].state != "approved" and after[PROVINCE].ready

    # The final reports say what they are: the districts approved (by whom, which revision),
    # the province a draft, the country the one unit left.
    assert "Đã phê duyệt — lần 1, bởi office_106" in _signoff_banner(reports, "district_106_")
    assert "Comment: Đã rà soát / checked (106)" in _signoff_banner(reports, "district_106_")
    assert "bởi engineer" in _signoff_banner(reports, f"district_{APPROVED_MEANWHILE}_")
    assert "Dự thảo — chưa được phê duyệt" in _signoff_banner(reports, f"province_{PROVINCE}_")
    assert "Draft — 1 of 9 units not approved yet" in _signoff_banner(reports, "country")


def _signoff_banner(reports: Path, stem: str) -> str:
    """The sign-off lines at the top of a unit's HTML report."""
    page = next(reports.glob(f"{stem}*.html")).read_text(encoding="utf-8")
    return page.split('<div id="signoff"', 1)[1].split("</div>", 1)[0]
