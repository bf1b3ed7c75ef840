"""Issue 11 item 11: the 2011-2020 programme's cycles are real history. A 2020-Y inbox (Tam
Đường, whose plan 001 is a 2020 plan) runs through `cycle run` to the marts."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cycle.cli import main
from devtools.generator import generate_inbox
from tests.transform.conftest import read, settings_under
from tests.transform.test_figure_conservation import assert_figures_conserved


def test_a_2020_cycle_reaches_the_marts(tmp_path: Path) -> None:
    settings = settings_under(tmp_path)
    generate_inbox(settings.inbox, ["2020-Y"], districts=["106"], file_format="mixed", seed=5)
    options = ["--inbox", str(settings.inbox), "--warehouse", settings.warehouse]
    options += ["--reports", str(settings.reports), "--archive", str(settings.archive)]
    options += ["--contacts", str(settings.contacts)]
    result = CliRunner().invoke(
        main, ["run", "2020-Y", "--dry-run-alerts", *options], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output

    values = read(
        settings,
        "select unit_level, count(*) as units, count(value) as reported"
        " from marts.fct_element_values where cycle = '2020-Y' group by unit_level",
    ).set_index("unit_level")
    assert set(values.index) == {"commune", "district", "province"}
    assert (values["reported"] > 0).all()
    assert_figures_conserved(settings)  # every figure of the inbox counted or listed
    # Tam Đường's own deadline (plan 001, 10 December) applies from 2020 on
    deadlines = read(
        settings,
        "select distinct deadline, deadline_plan_id from marts.fct_return_status"
        " where cycle = '2020-Y'",
    )
    assert deadlines.astype(str).values.tolist() == [["2020-12-10", "tamduong-2020"]]
    assert (settings.reports / "2020-Y" / "index.html").is_file()
