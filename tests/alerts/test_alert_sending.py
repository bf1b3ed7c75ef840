"""send_alerts end to end: marts in a real warehouse, a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alert_support import (
    CLEAN_OFFICE,
    OFFICES,
    PRE,
    Marts,
    SmtpServer,
    free_port,
    log_rows,
    office_reporters,
    scenario,
)

from alerts import build_alerts, send_alerts, write_demo_contacts
from alerts.queries import MartMissing
from alerts.send import NO_CONTACT
from core.cycles import Cycle
from core.settings import Settings
from core.warehouse import Warehouse

POST = Cycle.parse("2025-Y")
REPORTER_CODE = re.compile(r"\b(\d{5}|\d{2,3}-(?:health|education|police))\b")


def by_office(server: SmtpServer) -> dict[str, list[str]]:
    """office code -> codes of reporters and communes named in its message (text and HTML)."""
    found: dict[str, list[str]] = {}
    for received in server.received:
        office = str(received.message["X-CT-TE-Office"])
        assert office not in found, f"{office} received two messages"
        found[office] = REPORTER_CODE.findall(received.text + received.html)
    return found


def test_each_office_gets_one_email_with_its_own_items_only(
    settings: Settings, pre_reform: Marts, smtp_env: SmtpServer
) -> None:
    summary = send_alerts(settings, PRE)

    assert [o.office_code for o in summary.alerted] == sorted(OFFICES)
    assert not summary.failed and not summary.without_contacts and summary.ok
    codes = by_office(smtp_env)
    assert sorted(codes) == sorted(OFFICES)
    for office, named in codes.items():
        assert set(named) <= office_reporters(PRE, office), office
    assert {"16174", "402-police", "16177", "402-health", "16180"} <= set(codes["402"])
    assert {"16228", "16231"} <= set(codes["403"])
    assert "03394" in codes["106"]

    mail = {str(r.message["X-CT-TE-Office"]): r for r in smtp_env.received}
    nhu_xuan = mail["402"]
    assert nhu_xuan.message["Subject"] == (
        "[CT-TE 2024-Y] Huyện Như Xuân: 2 báo cáo chưa nộp, 2 lỗi số liệu / "
        "2 missing returns, 2 data problems"
    )
    assert nhu_xuan.rcpt_tos == ["ldtbxh.nhuxuan@example.gov.vn"]
    assert nhu_xuan.mail_from == "ct-te.noreply@example.gov.vn"
    assert nhu_xuan.message["To"] == "ldtbxh.nhuxuan@example.gov.vn"
    assert nhu_xuan.text.splitlines()[0] == (
        "Kính gửi: Phòng Lao động - Thương binh và Xã hội huyện Như Xuân"
    )
    assert nhu_xuan.message.get_content_type() == "multipart/alternative"
    for part in ("plain", "html"):
        body = nhu_xuan.message.get_body((part,))
        assert body is not None and body.get_content_charset() == "utf-8"
    text = nhu_xuan.text
    assert "Thị trấn Yên Cát (mã xã 16174)" in text
    assert "CHƯA NỘP BÁO CÁO. Hạn nộp: 15/12/2024." in text
    assert "Công an huyện Như Xuân (mã cơ quan 402-police)" in text
    assert "Giá trị báo cáo: 530; giá trị hợp lý: 480" in text
    assert "completeness.missing_return" not in text  # folded into the missing return
    assert text.index("English summary") > text.index("CHƯA NỘP")
    assert "return missing, due 2024-12-15" in text
    assert "a later return replaces the earlier one" in text
    assert "báo cáo gửi sau thay thế toàn bộ báo cáo gửi trước" in text
    assert "Xã Bãi Trành" in nhu_xuan.html and "<table" in nhu_xuan.html
    assert "Tỷ lệ vượt 100%" in mail["403"].text and "104,5" in mail["403"].text

    rows = log_rows(settings)
    assert [(r[1], r[8]) for r in rows] == [(o, "sent") for o in sorted(OFFICES)]
    logged = {r[1]: r for r in rows}
    assert str(logged["402"][4])[:16] == nhu_xuan.message["X-CT-TE-Fingerprint"]
    assert (logged["402"][5], logged["402"][6]) == (2, 2)
    assert logged["402"][2] == "ldtbxh.nhuxuan@example.gov.vn"


def test_rerun_sends_nothing_and_a_change_sends_an_update(
    settings: Settings, pre_reform: Marts, smtp_env: SmtpServer
) -> None:
    send_alerts(settings, PRE)
    smtp_env.clear()

    again = send_alerts(settings, PRE)
    assert smtp_env.received == []
    assert [o.office_code for o in again.skipped_unchanged] == sorted(OFFICES)
    assert not again.alerted and again.ok

    # a finding of Như Thanh changes; Tam Đường gets a missing return; Như Xuân is untouched
    pre_reform.issues = [
        dict(i, observed_value=106.0) if i["reporter_code"] == "16231" else i
        for i in pre_reform.issues
    ]
    pre_reform.miss(PRE, "106-education")
    pre_reform.write(settings.warehouse)
    update = send_alerts(settings, PRE)
    assert [o.office_code for o in update.alerted] == ["106", "403"]
    assert [o.office_code for o in update.skipped_unchanged] == ["402"]
    received = {str(r.message["X-CT-TE-Office"]): r for r in smtp_env.received}
    assert sorted(received) == ["106", "403"]
    assert "106" in received["403"].text and "104,5" not in received["403"].text
    assert "106-education" in received["106"].text
    assert str(received["106"].message["Subject"]).endswith(
        "1 báo cáo chưa nộp, 1 lỗi số liệu / 1 missing return, 1 data problem"
    )
    assert len(log_rows(settings, "sent")) == 5


def test_missing_contacts_are_reported_and_the_others_still_sent(
    settings: Settings, pre_reform: Marts, smtp_env: SmtpServer
) -> None:
    write_demo_contacts(settings.contacts, ["402", "106"])

    summary = send_alerts(settings, PRE)
    assert [o.office_code for o in summary.alerted] == ["106", "402"]
    assert [o.office_code for o in summary.without_contacts] == ["403"]
    assert not summary.ok
    assert "không có địa chỉ / without contacts: 1\n    403 Huyện Như Thanh" in summary.format()
    assert sorted(str(r.message["X-CT-TE-Office"]) for r in smtp_env.received) == ["106", "402"]
    failed = log_rows(settings, "failed")
    assert [(r[1], r[9]) for r in failed] == [("403", NO_CONTACT)]

    # once the office has an address, it gets its alert; the others are not sent again
    smtp_env.clear()
    write_demo_contacts(settings.contacts, [*OFFICES])
    later = send_alerts(settings, PRE)
    assert [o.office_code for o in later.alerted] == ["403"]
    assert [str(r.message["X-CT-TE-Office"]) for r in smtp_env.received] == ["403"]


def test_refused_addresses_fail_that_office_only(
    settings: Settings, pre_reform: Marts, smtp_env: SmtpServer
) -> None:
    settings.contacts.write_text(
        "unit_code,office_name,email\n"
        "402,Phòng LĐ-TB&XH huyện Như Xuân,bounce@example.gov.vn\n"
        "403,Phòng LĐ-TB&XH huyện Như Thanh,bounce@example.gov.vn; nhuthanh@example.gov.vn\n"
        "106,Phòng LĐ-TB&XH huyện Tam Đường,tamduong@example.gov.vn\n",
        encoding="utf-8",
    )
    summary = send_alerts(settings, PRE)
    assert [o.office_code for o in summary.failed] == ["402"]
    assert "550" in (summary.failed[0].error or "")
    assert [o.office_code for o in summary.alerted] == ["106", "403"]
    partly = summary.alerted[1]
    assert partly.error is not None and "bounce@example.gov.vn" in partly.error
    assert "403: một số địa chỉ bị từ chối / some addresses refused" in summary.format()
    assert sorted(r.rcpt_tos[0] for r in smtp_env.received) == [
        "nhuthanh@example.gov.vn",
        "tamduong@example.gov.vn",
    ]


def test_no_contacts_file_at_all_is_reported(
    settings: Settings, pre_reform: Marts, smtp_env: SmtpServer
) -> None:
    settings.contacts.unlink()
    summary = send_alerts(settings, PRE)
    assert [o.office_code for o in summary.without_contacts] == sorted(OFFICES)
    assert smtp_env.received == []
    assert any(
        "contacts file not found" in p and str(settings.contacts) in p for p in summary.problems
    )
    assert "contacts file not found" in summary.format()


def test_unreachable_smtp_server_is_reported_and_does_not_raise(
    settings: Settings, pre_reform: Marts, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody = free_port()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        f"smtp://127.0.0.1:{nobody}?from_email=ct-te%40example.gov.vn"
        f"&disable_ssl=true&disable_tls=true",
    )
    summary = send_alerts(settings, PRE)
    assert not summary.alerted
    assert [o.office_code for o in summary.failed] == sorted(OFFICES)
    assert all("SMTP server unreachable" in (o.error or "") for o in summary.failed)
    assert "connection refused" in summary.format()
    assert [r[8] for r in log_rows(settings)] == ["failed"] * 3

    # the server is back: every office still gets its alert
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_server.uri())
    retry = send_alerts(settings, PRE)
    assert [o.office_code for o in retry.alerted] == sorted(OFFICES)
    assert len(smtp_server.received) == 3


def test_no_smtp_connection_configured_is_reported(
    settings: Settings, pre_reform: Marts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    summary = send_alerts(settings, PRE)
    assert [o.office_code for o in summary.failed] == sorted(OFFICES)
    assert any("AIRFLOW_CONN_SMTP_DEFAULT" in p for p in summary.problems)


def test_connection_without_from_email_is_reported(
    settings: Settings, pre_reform: Marts, smtp_server: SmtpServer
) -> None:
    uri = f"smtp://127.0.0.1:{smtp_server.port}?disable_ssl=true&disable_tls=true"
    summary = send_alerts(settings, PRE, smtp_conn=uri)
    assert len(summary.failed) == 3 and smtp_server.received == []
    assert "from_email" in (summary.failed[0].error or "")


def test_dry_run_sends_nothing_and_does_not_block_the_real_run(
    settings: Settings, pre_reform: Marts, smtp_env: SmtpServer
) -> None:
    preview = send_alerts(settings, PRE, dry_run=True)
    assert smtp_env.received == []
    assert [o.office_code for o in preview.previewed] == sorted(OFFICES)
    assert len(preview.messages) == 3
    printed = preview.format(show_messages=True)
    assert "Subject: [CT-TE 2024-Y] Huyện Như Xuân" in printed
    assert "To: ldtbxh.nhuxuan@example.gov.vn" in printed
    assert "Kính gửi: Phòng Lao động - Thương binh và Xã hội huyện Như Xuân" in printed
    assert [r[8] for r in log_rows(settings)] == ["dry_run"] * 3

    real = send_alerts(settings, PRE)
    assert [o.office_code for o in real.alerted] == sorted(OFFICES)
    assert len(smtp_env.received) == 3


def test_dry_run_needs_no_smtp_connection(
    settings: Settings, pre_reform: Marts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    preview = send_alerts(settings, PRE, dry_run=True)
    assert len(preview.previewed) == 3 and not preview.failed and not preview.problems
    # a connection that a real run could not use is pointed out
    broken = send_alerts(settings, PRE, dry_run=True, smtp_conn="smtp://relay?disable_ssl=false")
    assert len(broken.previewed) == 3
    assert any("disable_ssl" in p for p in broken.problems)


def test_post_reform_cycle_goes_to_province_offices(
    settings: Settings, smtp_env: SmtpServer
) -> None:
    marts = Marts()
    marts.expected(POST, ["38", "12"])
    marts.miss(POST, "38-police", "03390")
    marts.finding(POST, "14758")  # Phường Hàm Rồng: in province 38 directly
    marts.write(settings.warehouse)
    write_demo_contacts(settings.contacts, ["38", "12"])

    summary = send_alerts(settings, POST)
    assert [o.office_code for o in summary.alerted] == ["12", "38"]
    codes = by_office(smtp_env)
    assert set(codes["38"]) == {"38-police", "14758"}
    assert set(codes["12"]) == {"03390"}
    mail = {str(r.message["X-CT-TE-Office"]): r for r in smtp_env.received}
    assert mail["12"].message["Subject"] == (
        "[CT-TE 2025-Y] Tỉnh Lai Châu: 1 báo cáo chưa nộp / 1 missing return"
    )
    assert "Xã Bình Lư (mã xã 03390)" in mail["12"].text  # the code read in 2025's hierarchy
    assert mail["38"].rcpt_tos == ["syt.thanhhoa@example.gov.vn"]


def test_smtp_login_from_the_connection(
    settings: Settings, pre_reform: Marts, smtp_server_with_login: SmtpServer
) -> None:
    server = smtp_server_with_login
    summary = send_alerts(
        settings, PRE, smtp_conn=server.uri(login="alerts", password="s3cret:p@ss")
    )
    assert len(summary.alerted) == 3
    assert all(r.authenticated for r in server.received)

    wrong = Settings(
        **{
            **settings.__dict__,
            "warehouse": str(Path(settings.warehouse).with_name("other.duckdb")),
        }
    )
    scenario().write(wrong.warehouse)
    refused = send_alerts(wrong, PRE, smtp_conn=server.uri(login="alerts", password="nope"))
    assert len(refused.failed) == 3
    assert "535" in (refused.failed[0].error or "")


def test_build_alerts_composes_without_sending_or_logging(
    settings: Settings, pre_reform: Marts
) -> None:
    plan = build_alerts(settings, PRE)
    assert [a.office_code for a in plan.alerts] == sorted(OFFICES)
    assert log_rows(settings) == []


def test_missing_marts_are_an_error(settings: Settings, smtp_env: SmtpServer) -> None:
    with pytest.raises(MartMissing, match="cycle validate 2024-Y"):
        send_alerts(settings, PRE)


def test_marts_as_dbt_names_them(
    settings: Settings, pre_reform: Marts, smtp_env: SmtpServer
) -> None:
    """dbt's fct_return_status calls the name `reporter_name_vi`; the quality layer keeps
    expected values as text. Both read; a required column that is absent is named."""
    with Warehouse(settings.warehouse).connect() as con:
        con.execute(
            "alter table marts.fct_return_status rename column reporter_name to reporter_name_vi"
        )
        con.execute("alter table marts.fct_quality_issues alter column expected_value type varchar")
        con.execute(
            "update marts.fct_quality_issues set expected_value = '≤ 480' "
            "where reporter_code = '402-health'"
        )
    summary = send_alerts(settings, PRE)
    assert len(summary.alerted) == 3
    text = next(r.text for r in smtp_env.received if r.message["X-CT-TE-Office"] == "402")
    assert "Giá trị báo cáo: 530; giá trị hợp lý: ≤ 480" in text
    assert "Công an huyện Như Xuân (mã cơ quan 402-police)" in text

    with Warehouse(settings.warehouse).connect() as con:
        con.execute("alter table marts.fct_quality_issues drop column severity")
    with pytest.raises(MartMissing, match=r"lacks the column.*severity"):
        send_alerts(settings, PRE)


@pytest.mark.postgres
def test_postgresql_warehouse(settings: Settings, postgres_url: str, smtp_env: SmtpServer) -> None:
    pg = settings.with_(warehouse=postgres_url)
    marts = scenario()
    marts.write(pg.warehouse)
    write_demo_contacts(pg.contacts, [*OFFICES, CLEAN_OFFICE])

    first = send_alerts(pg, PRE)
    assert [o.office_code for o in first.alerted] == sorted(OFFICES)
    codes = by_office(smtp_env)
    for office, named in codes.items():
        assert set(named) <= office_reporters(PRE, office)
    assert not send_alerts(pg, PRE).alerted

    marts.miss(PRE, "403-health")
    marts.write(pg.warehouse)
    assert [o.office_code for o in send_alerts(pg, PRE).alerted] == ["403"]
    rows = log_rows(pg, "sent")
    assert [r[1] for r in rows] == ["106", "402", "403", "403"]
    assert rows[-1][6] == 2  # 16228 and 403-health
