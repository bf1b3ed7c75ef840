"""After approval, published figures are stable (issue 15): a late return for an approved
district is ingested and built as usual, but its reports keep the revision signed, with a
"pending revision" banner and the changed cells marked, and `cycle status` says so; approving
again makes revision 2, which the reports then show. Every revision stays queryable."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from alerts import write_demo_contacts
from core.cycles import Cycle
from core.values import is_missing
from cycle import signoff, steps
from cycle.cli import main
from reports.load import load_report
from tests.transform.conftest import BuiltWarehouse, read
from tests.transform.test_quality_tables import late_return
from tests.transform.test_readme_queries import readme_query
from tests.transform.test_signoff_rules import clear_blockers

pytestmark = pytest.mark.xdist_group("transform")  # one worker shares one built warehouse

CYCLE = Cycle.parse("2024-Y")


def figures(report: object) -> dict[str, float | None]:
    return {i.indicator_code: i.value for i in report.indicators}  # type: ignore[attr-defined]


def test_a_late_return_after_approval_waits_for_a_new_revision(
    built_copy: BuiltWarehouse,
) -> None:
    settings = built_copy.settings
    planted = sorted(
        p.reporter_code
        for p in built_copy.generated.planted
        if p.cycle == CYCLE.id and p.kind == "missing" and p.reporter_code.isdigit()
    )
    (district,) = read(
        settings,
        "select district_code from marts.fct_return_status "
        f"where cycle = '{CYCLE.id}' and reporter_code = '{planted[0]}'",
    ).district_code
    steps.validate(settings, CYCLE)
    clear_blockers(settings, district)  # waives the planted commune among others
    signoff.approve(settings, CYCLE, district, by="Nguyễn Văn A", comment="đã rà soát")
    steps.report(settings, CYCLE)
    signed = load_report(settings.warehouse, CYCLE, "district", district)
    assert signed.signoff.approved and signed.signoff.revision == 1
    assert not signed.signoff.pending_revision
    draft = load_report(settings.warehouse, CYCLE, "province", "12")
    assert not draft.signoff.approved
    html = next((settings.reports / CYCLE.id).glob(f"district_{district}_*.html")).read_text()
    assert "Đã phê duyệt — lần 1, bởi Nguyễn Văn A" in html and "Dự thảo" not in html
    country = (settings.reports / CYCLE.id / "country.html").read_text()
    assert "Dự thảo — còn" in country and "units-left" in country
    index = (settings.reports / CYCLE.id / "index.html").read_text()
    assert "approved, lần / revision 1" in index and "Dự thảo / Draft · còn / left" in index

    # the planted commune's return arrives late: ingested, built, validated as usual
    late = late_return(built_copy, CYCLE.id)
    assert late == planted[0]
    received = {u.unit_code: u for u in signoff.unit_signoffs(settings, CYCLE)}[district]
    assert received.pending_revision and received.cycle_state == "received"  # before the build
    assert not received.ready  # to approve again, its figures must be built and checked
    steps.transform(settings, CYCLE)
    steps.validate(settings, CYCLE)
    unit = {u.unit_code: u for u in signoff.unit_signoffs(settings, CYCLE)}[district]
    assert unit.state == "approved" and unit.pending_revision and unit.revision == 1
    assert unit.figures_pending > 0 and unit.returns_pending == 1
    working = read(
        settings,
        "select indicator_code, value from marts.fct_indicator_values "
        f"where cycle = '{CYCLE.id}' and unit_level = 'district' and unit_code = '{district}'",
    )
    now = dict(zip(working.indicator_code, working.value, strict=True))

    kept = load_report(settings.warehouse, CYCLE, "district", district)
    assert figures(kept) == figures(signed)  # the signed figures stand
    assert any(now[code] != value for code, value in figures(signed).items() if value)
    s = kept.signoff
    assert s.pending_revision and s.revision == 1
    assert any(u == late for u, _ in s.pending_cells)  # the commune's cells
    assert any(u == district for u, _ in s.pending_cells)  # the district's own row too

    steps.report(settings, CYCLE)
    html = next((settings.reports / CYCLE.id).glob(f"district_{district}_*.html")).read_text()
    assert "Chờ phê duyệt lại" in html and "Pending revision" in html and "✱" in html
    status = CliRunner(env=settings.as_env()).invoke(main, ["status", CYCLE.id])
    assert status.exit_code == 0 and "PENDING REVISION" in status.output
    write_demo_contacts(settings.contacts, [district])
    alerts = steps.alert(settings, CYCLE, dry_run=True).format(show_messages=True)
    assert "CHỜ PHÊ DUYỆT LẠI" in alerts and "Pending revision: approved as revision 1" in alerts

    again = signoff.approve(settings, CYCLE, district, by="Nguyễn Văn A")
    assert (again.revision, again.pending_revision) == (2, False)
    # approval is a report input: exactly the district's and the country's reports change
    rerun = steps.report(settings, CYCLE)
    assert rerun.unchanged == len(rerun.reports) - 2
    html = next((settings.reports / CYCLE.id).glob(f"district_{district}_*.html")).read_text()
    assert "Đã phê duyệt — lần 2" in html and "Chờ phê duyệt lại" not in html
    applied = load_report(settings.warehouse, CYCLE, "district", district)
    assert applied.signoff.revision == 2 and not applied.signoff.pending_cells
    assert figures(applied) == {
        code: (None if is_missing(value) else value) for code, value in now.items()
    }

    # what was signed, revision by revision: the README's query
    signed_query = readme_query("ops.approved_indicator_values")
    assert "ops.approved_indicator_values" in signed_query
    revisions = read(settings, signed_query)
    mine = revisions[revisions.signed_unit_code == district]
    assert list(mine.revision) == [1, 2] and list(mine.approved_by) == ["Nguyễn Văn A"] * 2
    assert mine.comment.iloc[0] == "đã rà soát" and is_missing(mine.comment.iloc[1])
