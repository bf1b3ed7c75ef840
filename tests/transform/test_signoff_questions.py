"""What the DAG's sign-off tasks call (cycle/steps.py): which units get a question, and what an
answer given in Airflow records — on the built world, validated (here, beside the sign-off
rules, to share the session's built warehouse)."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from core.cycles import Cycle
from core.settings import Settings
from core.warehouse import LOCK_WAIT_ENV
from cycle import signoff, steps
from tests.cycle.test_warehouse_lock import HOLD, holder
from tests.transform.conftest import BuiltWarehouse, read
from tests.transform.test_signoff_rules import clear_blockers

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

CYCLE = Cycle.parse("2024-Y")


def _audit(built_copy: BuiltWarehouse) -> list[tuple[str, str, str, str]]:
    rows = read(
        built_copy.settings,
        "select unit_code, action, actor, via from ops.signoff_actions "
        f"where cycle = '{CYCLE.id}' and action = 'approve' order by recorded_at",
    )
    return [tuple(r) for r in rows.itertuples(index=False)]


def test_questions_go_to_ready_units_and_answers_record_what_cycle_approve_records(
    built_copy: BuiltWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = built_copy.settings
    steps.validate(settings, CYCLE)
    units = {u.unit_code: u for u in signoff.unit_signoffs(settings, CYCLE)}
    districts = sorted(c for c, u in units.items() if u.unit_level == "district")
    blocked = sorted(c for c in districts if not units[c].ready)
    ready = sorted(c for c in districts if units[c].ready)
    assert blocked and ready  # the generated world plants missing returns and errors

    asked = steps.signoff_requests(settings, CYCLE, "offices")
    assert sorted(r.unit_code for r in asked) == ready
    question = next(r for r in asked if r.unit_code == ready[0])
    assert CYCLE.id in question.subject and ready[0] in question.subject
    assert f"cycle approve {CYCLE.id} {ready[0]}" in question.body
    # provinces sign after all their districts: none is asked yet
    assert steps.signoff_requests(settings, CYCLE, "provinces") == []
    # a cycle never built: nobody to ask (the run goes on to its reports)
    assert steps.signoff_requests(settings, Cycle.parse("2021-Y"), "offices") == []

    def answer(code: str, option: str, by: str | None, comment: str | None = None) -> str:
        return steps.record_signoff_answer(
            settings, CYCLE, code, chosen=[option], by=by, comment=comment
        )

    # No answer before the wait ended, or Not approved: nothing recorded.
    assert "no answer" in answer(ready[0], steps.SIGNOFF_NOT_APPROVED, None)
    said = answer(ready[0], steps.SIGNOFF_NOT_APPROVED, "office_a", "thiếu chữ ký")
    assert "not approved by office_a: thiếu chữ ký" in said
    # A unit that is not ready: the refusal is the answer's outcome, not a failed task.
    refused = answer(blocked[0], steps.SIGNOFF_APPROVE, "office_b")
    assert "refused" in refused and ("cycle waive" in refused or "cycle accept" in refused)
    assert _audit(built_copy) == []

    # Approve: recorded as `cycle approve` records it, with via='airflow', once the warehouse is
    # free (here a `cycle run` holds it for a few seconds); twice: nothing new.
    monkeypatch.setenv(LOCK_WAIT_ENV, "1")
    run = holder(HOLD, settings.warehouse)
    threading.Timer(4, lambda: run.communicate("")).start()
    started = time.monotonic()
    said = answer(ready[0], steps.SIGNOFF_APPROVE, "office_a")
    assert time.monotonic() - started > 3  # it waited for the run, past CYCLE_LOCK_WAIT
    assert "approved by office_a, revision 1; " in said
    # its reports written at once, as `cycle approve` does (the built world had none yet)
    assert "Đã phê duyệt — lần 1, bởi office_a" in _banner(settings, f"district_{ready[0]}_")
    assert run.wait(timeout=30) == 0
    again = answer(ready[0], steps.SIGNOFF_APPROVE, "office_c")
    assert "approved already, revision 1 by office_a (airflow)" in again
    assert _audit(built_copy) == [(ready[0], "approve", "office_a", "airflow")]
    assert ready[0] not in [r.unit_code for r in steps.signoff_requests(settings, CYCLE, "offices")]

    # Once every district of province 12 is approved, the province is asked.
    for code in districts:
        if units[code].province_code == "12" and code != ready[0]:
            clear_blockers(settings, code)
            signoff.approve(settings, CYCLE, code, by="engineer")
    provinces = steps.signoff_requests(settings, CYCLE, "provinces")
    assert [(r.unit_level, r.unit_code) for r in provinces] == [("province", "12")]


def test_an_approved_unit_is_asked_again_only_when_its_figures_changed() -> None:
    unit = signoff.UnitSignoff(
        cycle=CYCLE.id,
        unit_level="district",
        unit_code="106",
        unit_name_vi="Huyện Tam Đường",
        state="validated",
        revision=None,
        approved_by=None,
        approved_at=None,
        ready=True,
        blocking=(),
        pending_revision=False,
    )
    assert steps.awaits_approval(unit)
    assert not steps.awaits_approval(dataclasses.replace(unit, ready=False, blocking=("x",)))
    approved = dataclasses.replace(unit, state="approved", revision=1, approved_by="A")
    assert not steps.awaits_approval(approved)
    assert steps.awaits_approval(dataclasses.replace(approved, pending_revision=True))
    locked = dataclasses.replace(approved, state="locked", pending_revision=True)
    assert not steps.awaits_approval(dataclasses.replace(locked, ready=False))


def _banner(settings: Settings, stem: str) -> str:
    """The sign-off lines at the top of a unit's HTML report."""
    page = next((settings.reports / CYCLE.id).glob(f"{stem}*.html")).read_text(encoding="utf-8")
    return page.split('<div id="signoff"', 1)[1].split("</div>", 1)[0]
