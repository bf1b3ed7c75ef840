"""Sign-off rules (cycle/signoff.py over marts.fct_signoff_states) on the built world: a
district is approved only when its returns are in or waived and its error findings resolved or
accepted; a province (before the reform) only after all its districts; every action is in the
append-only audit trail, the same through any channel."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.cycles import Cycle
from core.settings import Settings
from cycle import signoff, steps
from cycle.cli import main
from tests.transform.conftest import BuiltWarehouse, read

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

CYCLE = Cycle.parse("2024-Y")
PROVINCE = "12"


def units(settings: Settings) -> dict[str, signoff.UnitSignoff]:
    return {u.unit_code: u for u in signoff.unit_signoffs(settings, CYCLE)}


def clear_blockers(settings: Settings, unit_code: str) -> None:
    """Waive the unit's missing returns and accept its open errors (2024-Y)."""
    clear_blockers_of(settings, CYCLE, unit_code)


def clear_blockers_of(settings: Settings, cycle: Cycle, unit_code: str) -> None:
    items = read(
        settings,
        "select item_kind, item_code from marts.fct_signoff_items_open "
        f"where cycle = '{cycle.id}' and unit_code = '{unit_code}'",
    )
    returns = [c for k, c in items.itertuples(index=False) if k == "return"]
    findings = [c for k, c in items.itertuples(index=False) if k == "finding"]
    if returns:
        signoff.waive(settings, cycle, returns, by="Lê Thị B", reason="xã sáp nhập")
    if findings:
        signoff.accept(settings, cycle, findings, by="Lê Thị B", reason="đã xác minh")


def test_approval_follows_the_rules_and_every_action_is_audited(
    built_copy: BuiltWarehouse,
) -> None:
    settings = built_copy.settings
    before = units(settings)
    assert {u.state for u in before.values()} == {"open"}  # built, not validated
    assert all(not u.ready and u.blocking for u in before.values())
    with pytest.raises(signoff.SignoffRefused, match="not built and validated"):
        signoff.approve(settings, CYCLE, "105", by="A")

    steps.validate(settings, CYCLE)
    now = units(settings)
    assert {u.state for u in now.values()} == {"validated"}
    districts = sorted(
        code for code, u in now.items() if u.unit_level == "district" and u.province_code == "12"
    )
    blocked = next(code for code in districts if not now[code].ready)
    assert any("cycle waive" in b or "cycle accept" in b for b in now[blocked].blocking)
    with pytest.raises(signoff.SignoffRefused) as refused:
        signoff.approve(settings, CYCLE, blocked, by="A")
    assert blocked in str(refused.value) and "\n" not in str(refused.value)
    for reason in now[blocked].blocking:
        assert reason in str(refused.value)

    # the province waits for every district
    province = now[PROVINCE]
    assert province.signs_after_districts and not province.ready
    assert f"{len(districts)} districts not approved" in " ".join(province.blocking)

    clear_blockers(settings, blocked)
    assert units(settings)[blocked].ready
    approved = signoff.approve(settings, CYCLE, blocked, by="Nguyễn Văn A", comment="đủ")
    assert (approved.state, approved.revision, approved.approved_by) == (
        "approved",
        1,
        "Nguyễn Văn A",
    )
    assert not approved.ready and not approved.pending_revision
    again = signoff.approve(settings, CYCLE, blocked, by="Nguyễn Văn A", via="airflow")
    assert again.unchanged and again.revision == 1  # a retry records nothing

    for code in districts:
        if code != blocked:
            clear_blockers(settings, code)
            signoff.approve(settings, CYCLE, code, by="Nguyễn Văn A")
    assert units(settings)[PROVINCE].ready
    signoff.approve(settings, CYCLE, PROVINCE, by="Trần C", via="airflow")
    with pytest.raises(signoff.SignoffRefused, match="unapprove it first"):
        signoff.unapprove(settings, CYCLE, blocked, by="Trần C", reason="sai số")
    signoff.unapprove(settings, CYCLE, PROVINCE, by="Trần C", reason="sai số")
    withdrawn = signoff.unapprove(settings, CYCLE, blocked, by="Trần C", reason="sai số")
    assert withdrawn.state == "validated" and withdrawn.revision is None
    assert signoff.approve(settings, CYCLE, blocked, by="Nguyễn Văn A").revision == 2

    trail = read(
        settings,
        "select unit_code, action, subject, actor, via, comment, revision "
        f"from ops.signoff_actions where cycle = '{CYCLE.id}' order by recorded_at",
    )
    decisions = [
        (r.unit_code, r.action, r.actor, r.via, r.revision)
        for r in trail.itertuples()
        if r.action in ("approve", "unapprove") and r.unit_code in (blocked, PROVINCE)
    ]
    assert decisions == [
        (blocked, "approve", "Nguyễn Văn A", "cli", 1),
        (PROVINCE, "approve", "Trần C", "airflow", 1),
        (PROVINCE, "unapprove", "Trần C", "cli", 1),
        (blocked, "unapprove", "Trần C", "cli", 1),
        (blocked, "approve", "Nguyễn Văn A", "cli", 2),
    ]
    assert set(trail[trail.action.isin(["waive", "accept"])].comment) <= {
        "xã sáp nhập",
        "đã xác minh",
    }
    # every revision stays, the district's rows and its communes'
    signed = read(
        settings,
        "select revision, count(*) as n, count(distinct unit_level) as levels "
        "from ops.approved_indicator_values "
        f"where cycle = '{CYCLE.id}' and signed_unit_code = '{blocked}' group by revision "
        "order by revision",
    )
    assert list(signed.revision) == [1, 2] and set(signed.levels) == {2}
    assert signed.n[0] == signed.n[1]


def test_cli_sign_off_errors_are_one_line(built_copy: BuiltWarehouse) -> None:
    runner = CliRunner(env=built_copy.settings.as_env())
    for args, expected in [
        (["approve", CYCLE.id, "99999", "--by", "A"], "no signing unit"),
        (["approve", CYCLE.id, "105", "--by", " "], "--by"),
        (["accept", CYCLE.id, "zzzzzz", "--by", "A", "--reason", "x"], "no such finding"),
        (["waive", CYCLE.id, "00000", "--by", "A", "--reason", "x"], "no reporter"),
        (["unlock", CYCLE.id, "--by", "A", "--reason", "x"], "is not locked"),
        (["unapprove", CYCLE.id, "105", "--by", "A", "--reason", "x"], "not approved"),
    ]:
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert expected in result.output and "Traceback" not in result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, args
    missing = runner.invoke(main, ["approve", CYCLE.id, "105"])
    assert missing.exit_code == 2 and "--by" in missing.output

    result = runner.invoke(main, ["status", CYCLE.id])
    assert result.exit_code == 0, result.output
    assert f"Phê duyệt / sign-off {CYCLE.id}: " in result.output
    assert "not built and validated" in result.output


def test_a_cycle_locks_once_every_unit_is_approved_and_then_refuses_changes(
    built_copy: BuiltWarehouse,
) -> None:
    """After the reform provinces sign directly; `cycle lock` needs every one approved, and a
    locked cycle refuses sign-off changes and new returns until `cycle unlock`."""
    settings = built_copy.settings
    post = Cycle.parse("2025-Y")
    steps.validate(settings, post)
    provinces = sorted(u.unit_code for u in signoff.unit_signoffs(settings, post))
    assert provinces and all(
        u.unit_level == "province" and not u.signs_after_districts
        for u in signoff.unit_signoffs(settings, post)
    )
    runner = CliRunner(env=settings.as_env())
    for code in provinces:
        clear_blockers_of(settings, post, code)
    first, *others = provinces
    approved = runner.invoke(main, ["approve", post.id, first, "--by", "Trần C"])
    assert approved.exit_code == 0 and "revision 1" in approved.output, approved.output
    assert f"Report {post.id}:" in approved.output  # the reports it changes, written at once
    html = next((settings.reports / post.id).glob(f"province_{first}_*.html")).read_text()
    assert "Đã phê duyệt — lần 1, bởi Trần C" in html
    refused = runner.invoke(main, ["lock", post.id, "--by", "Trần C"])
    assert refused.exit_code == 1 and "units not approved" in refused.output
    assert all(code in refused.output for code in others)
    for code in others:
        signoff.approve(settings, post, code, by="Trần C")
    locked = runner.invoke(main, ["lock", post.id, "--by", "Trần C", "--reason", "đã ký"])
    assert locked.exit_code == 0, locked.output
    assert {u.state for u in signoff.unit_signoffs(settings, post)} == {"locked"}
    for args in (
        ["unapprove", post.id, first, "--by", "A", "--reason", "x"],
        ["lock", post.id, "--by", "A"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 1 and "locked" in result.output, (args, result.output)
    # a late return is archived and refused, nothing lost
    late = settings.inbox / post.id / "zz_late.csv"
    late.write_bytes(next((settings.inbox / post.id).glob("*.csv")).read_bytes() + b"\n")
    assert steps.ingest(settings, post).rejected == 1
    (reason,) = read(
        settings,
        f"select reason_code from raw.received_files where cycle = '{post.id}' "
        "and file_name = 'zz_late.csv'",
    ).reason_code
    assert reason == "cycle_locked"
    unlocked = runner.invoke(
        main, ["unlock", post.id, "--by", "Trần C", "--reason", "báo cáo bổ sung"]
    )
    assert unlocked.exit_code == 0, unlocked.output
    assert {u.state for u in signoff.unit_signoffs(settings, post)} == {"approved"}
    trail = read(
        settings,
        "select action, unit_code, actor, via, comment from ops.signoff_actions "
        f"where cycle = '{post.id}' and action in ('lock', 'unlock') order by recorded_at",
    )
    assert [tuple(r) for r in trail.itertuples(index=False)] == [
        ("lock", "VN", "Trần C", "cli", "đã ký"),
        ("unlock", "VN", "Trần C", "cli", "báo cáo bổ sung"),
    ]
