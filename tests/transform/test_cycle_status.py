"""`cycle status`: each unit's state follows the steps, from the one ledger they all write, and a
late return sends its district and province back to `received` until the next build."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from alerts import write_demo_contacts
from core.cycles import Cycle
from cycle import steps
from cycle.cli import main
from cycle.status import read_states
from tests.alerts.alert_support import SmtpServer, start_server
from tests.transform.conftest import BuiltWarehouse, read
from tests.transform.test_quality_tables import late_return

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

CYCLE = Cycle.parse("2023-Y")


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    controller, server = start_server()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", server.uri())
    try:
        yield server
    finally:
        controller.stop()


def states(built: BuiltWarehouse) -> dict[tuple[str, str], str]:
    return {(s.unit_level, s.unit_code): s.state for s in read_states(built.settings, CYCLE)}


def test_each_step_moves_every_unit_and_a_late_return_moves_its_own_back(
    built_copy: BuiltWarehouse, smtp: SmtpServer
) -> None:
    settings = built_copy.settings
    assert set(states(built_copy).values()) == {"built"}
    steps.validate(settings, CYCLE)
    assert set(states(built_copy).values()) == {"validated"}
    steps.report(settings, CYCLE)
    assert set(states(built_copy).values()) == {"reported"}
    offices = [code for level, code in states(built_copy) if level == "district"]
    write_demo_contacts(settings.contacts, offices)
    steps.alert(settings, CYCLE, dry_run=True)  # a preview alerts nobody
    assert set(states(built_copy).values()) == {"reported"}
    steps.alert(settings, CYCLE)
    assert set(states(built_copy).values()) == {"alerted"} and smtp.received

    late = late_return(built_copy, CYCLE.id)
    (district, province), *_ = read(
        settings,
        "select district_code, province_code from marts.fct_return_status "
        f"where cycle = '{CYCLE.id}' and reporter_code = '{late}'",
    ).itertuples(index=False)
    moved = {("district", district), ("province", province)}
    after = states(built_copy)
    assert {unit for unit, state in after.items() if state == "received"} == moved
    assert {state for unit, state in after.items() if unit not in moved} == {"alerted"}
    changed = {
        (s.unit_level, s.unit_code): s.reporters_changed_since_build
        for s in read_states(settings, CYCLE)
    }
    assert {unit: changed[unit] for unit in moved} == dict.fromkeys(moved, 1)

    steps.transform(settings, CYCLE)  # rebuilds the province: each of its units is to check
    in_province = {
        (s.unit_level, s.unit_code): s.state
        for s in read_states(settings, CYCLE)
        if s.province_code == province
    }
    assert set(in_province.values()) == {"built"} and moved <= in_province.keys()
    assert {state for unit, state in states(built_copy).items() if unit not in in_province} == {
        "alerted"
    }

    result = CliRunner(env=settings.as_env()).invoke(main, ["status", CYCLE.id])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{CYCLE.id}: {len(in_province)} built, ")
    assert f"province {province}" in result.output and f"  district {district}" in result.output


def test_a_cycle_never_built_is_one_line(built_copy: BuiltWarehouse) -> None:
    result = CliRunner(env=built_copy.settings.as_env()).invoke(main, ["status", "2019-Y"])
    assert result.exit_code == 1
    assert "run `cycle run 2019-Y`" in result.output and "Traceback" not in result.output
