"""Composing the alerts from the marts' rows: routing, grouping, wording, fingerprints."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from alert_support import ISSUE_COLUMNS, STATUS_COLUMNS, Marts

from alerts.compose import DEFAULT_FROM, AlertPlan, compose_alerts
from alerts.contacts import read_contacts, write_demo_contacts
from core.cycles import Cycle

PRE = Cycle.parse("2024-H1")


def plan(
    marts: Marts, tmp_path: Path, cycle: Cycle = PRE, issues: list[dict[str, Any]] | None = None
) -> AlertPlan:
    contacts = tmp_path / "contacts.csv"
    if not contacts.exists():
        write_demo_contacts(contacts, ["402", "403"])
    return compose_alerts(
        cycle,
        pd.DataFrame(marts.status, columns=list(STATUS_COLUMNS)),
        pd.DataFrame(marts.issues if issues is None else issues, columns=list(ISSUE_COLUMNS)),
        read_contacts(contacts),
        DEFAULT_FROM,
    )


def nhu_xuan() -> Marts:
    marts = Marts()
    marts.expected(PRE, ["402", "403"])
    marts.miss(PRE, "402-police", "402-health", "16177")
    marts.finding(
        PRE,
        "402-education",
        element_code="pop_7_15",
        observed=1234,
        expected=987,
        rule_id="over_time.ratio_to_mean",
    )
    marts.finding(
        PRE,
        "16174",
        element_code=None,
        indicator_code="CT04a",
        observed=9.5,
        expected=7,
        severity="warning",
        rule_id="over_time.modified_z",
    )
    return marts


def test_grouped_per_reporter_communes_first_then_agencies(tmp_path: Path) -> None:
    alerts = plan(nhu_xuan(), tmp_path).alerts
    assert [a.office_code for a in alerts] == ["402"]
    alert = alerts[0]
    assert [(r.code, r.missing, len(r.findings)) for r in alert.reporters] == [
        ("16174", False, 1),
        ("16177", True, 0),
        ("402-health", True, 0),
        ("402-education", False, 1),
        ("402-police", True, 0),
    ]
    assert alert.subject == (
        "[CT-TE 2024-H1] Huyện Như Xuân: 3 báo cáo chưa nộp, 2 lỗi số liệu"
        " / 3 missing returns, 2 data problems"
    )
    text = alert.text
    assert "kỳ báo cáo 2024-H1 (6 tháng đầu năm 2024)" in text
    assert "Hạn nộp báo cáo kỳ này: 15/06/2024." in text
    # Vietnamese number formatting in the Vietnamese part, English in the summary
    assert "Giá trị báo cáo: 1.234; giá trị hợp lý: 987" in text
    assert "Giá trị báo cáo: 9,5; giá trị hợp lý: 7" in text
    assert "(observed 1,234, expected 987)" in text
    assert "[Cảnh báo] CT04a " in text  # the indicator's code and name
    assert "(1 error, 1 warning) in 5 communes/agencies" in text
    # an agency's finding names the commune it is about
    assert "Xã Bãi Trành (16177)" in text.split("402-education")[1]


def test_fingerprint_ignores_order_types_names_and_contacts(tmp_path: Path) -> None:
    marts = nhu_xuan()
    first = plan(marts, tmp_path).alerts[0]

    shuffled = Marts(
        status=list(reversed(marts.status)),
        issues=[
            dict(
                i,
                reporter_name="x",
                unit_name="Tên khác",
                observed_value=Decimal(str(i["observed_value"])),
                expected_value=str(i["expected_value"]),
            )
            for i in reversed(marts.issues)
        ],
    )
    write_demo_contacts(tmp_path / "contacts.csv", ["403"])  # 402 now has no contact
    second = plan(shuffled, tmp_path).alerts[0]
    assert second.contact is None and second.fingerprint == first.fingerprint

    changed = [
        dict(i, observed_value=1235) if i["reporter_code"] == "402-education" else i
        for i in marts.issues
    ]
    assert plan(marts, tmp_path, issues=changed).alerts[0].fingerprint != first.fingerprint
    later_deadline = Marts(
        status=[dict(s, deadline=pd.Timestamp("2024-06-20")) for s in marts.status],
        issues=marts.issues,
    )
    assert plan(later_deadline, tmp_path).alerts[0].fingerprint != first.fingerprint


def test_text_is_escaped_in_html(tmp_path: Path) -> None:
    marts = Marts()
    marts.expected(PRE, ["402"])
    marts.finding(PRE, "16174", message_vi="Giá trị <script>alert(1)</script> & sai")
    alert = plan(marts, tmp_path).alerts[0]
    assert "<script>" not in alert.html
    assert "Giá trị &lt;script&gt;alert(1)&lt;/script&gt; &amp; sai" in alert.html
    assert "<script>" in alert.text


def test_rows_without_an_office_are_reported_not_sent(tmp_path: Path) -> None:
    marts = Marts()
    marts.expected(PRE, ["402"])
    marts.finding(PRE, "16174")
    marts.issues.append(dict(marts.issues[0], district_code=None, reporter_code="16177"))
    result = plan(marts, tmp_path)
    assert [r.code for r in result.alerts[0].reporters] == ["16174"]
    assert any("1 dòng không có mã huyện" in p and "district_code" in p for p in result.problems)


def test_findings_without_a_reporter_are_grouped_by_unit(tmp_path: Path) -> None:
    marts = Marts()
    marts.expected(PRE, ["402"])
    marts.finding(PRE, "16174")
    marts.issues[0].update(reporter_code=None, rule_id="cross_source.abused_vs_police")
    alert = plan(marts, tmp_path).alerts[0]
    assert [(r.kind, r.code, r.name) for r in alert.reporters] == [
        ("unit", "16174", "Thị trấn Yên Cát")
    ]
    assert "Thị trấn Yên Cát (mã đơn vị 16174)" in alert.text


def test_codes_that_lost_their_leading_zero(tmp_path: Path) -> None:
    """A mart with integer codes still routes 03390 to district 106."""
    marts = Marts()
    marts.expected(PRE, ["106"])
    marts.miss(PRE, "03390")
    for row in marts.status:
        if row["reporter_code"] == "03390":
            row.update(reporter_code=3390, district_code=106)
    alert = plan(marts, tmp_path).alerts[0]
    assert (alert.office_code, alert.reporters[0].code) == ("106", "03390")
    assert alert.office_name == "Huyện Tam Đường"


def test_an_approved_office_with_a_revision_pending_is_told_so(tmp_path: Path) -> None:
    """Issue 15: the office whose approved figures changed since (a late return) is told its
    report keeps the revision approved until it approves again, even with nothing else to
    report; its alert's fingerprint changes with the revision pending."""
    marts = nhu_xuan()
    contacts = tmp_path / "contacts.csv"
    write_demo_contacts(contacts, ["402", "403"])
    signoff = pd.DataFrame(
        [
            ("district", "402", 1, True, 3, 1),
            ("district", "403", 2, True, 5, 1),
            ("province", "38", 1, True, 8, 2),  # no office at the province before the reform
        ],
        columns=[
            "unit_level",
            "unit_code",
            "revision",
            "pending_revision",
            "figures_pending",
            "returns_pending",
        ],
    )
    composed = compose_alerts(
        PRE,
        pd.DataFrame(marts.status, columns=list(STATUS_COLUMNS)),
        pd.DataFrame(marts.issues, columns=list(ISSUE_COLUMNS)),
        read_contacts(contacts),
        DEFAULT_FROM,
        signoff,
    )
    by_office = {a.office_code: a for a in composed.alerts}
    assert sorted(by_office) == ["402", "403"]
    only_pending = by_office["403"]
    assert not only_pending.reporters and only_pending.pending is not None
    assert "CHỜ PHÊ DUYỆT LẠI" in only_pending.text and "lần 2" in only_pending.text
    assert "Pending revision: approved as revision 2" in only_pending.text
    assert "chờ phê duyệt lại" in only_pending.subject
    assert "revision pending" in only_pending.html
    before = {a.office_code: a.fingerprint for a in plan(marts, tmp_path).alerts}
    assert by_office["402"].fingerprint != before["402"]
    assert (
        "CHỜ PHÊ DUYỆT LẠI" in by_office["402"].text and "Chưa nộp báo cáo" in by_office["402"].html
    )
