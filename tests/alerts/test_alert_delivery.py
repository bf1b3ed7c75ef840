"""Delivery (issues 11 and 12): a message the server took but did not confirm is sent once and
recorded as uncertain, stable Message-IDs, Vietnamese subjects that survive folding, and an
alert step that fails when offices could not be alerted."""

from __future__ import annotations

import email
import email.policy
import io
import logging
from collections.abc import Iterator
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from alert_support import (
    OFFICES,
    PRE,
    DropAfterData,
    DropFirstMail,
    Marts,
    SmtpServer,
    free_port,
    log_rows,
    start_server,
)
from click.testing import CliRunner

from alerts import AlertsNotDelivered, send_alerts, write_demo_contacts
from alerts.compose import MESSAGE_POLICY, Finding, OfficeAlert, ReporterItems, fingerprint
from core.cycles import Cycle
from core.reference import reference
from core.settings import Settings
from cycle import steps
from cycle.cli import main


@pytest.fixture
def dropping_server() -> Iterator[SmtpServer]:
    """Takes each message whole, then drops the connection before replying."""
    controller, server = start_server(DropAfterData())
    try:
        yield server
    finally:
        controller.stop()


def message_ids(server: SmtpServer) -> dict[str, str]:
    return {str(r.message["X-CT-TE-Office"]): str(r.message["Message-ID"]) for r in server.received}


# -- a message the server took but did not confirm ---------------------------------------------


def test_server_dropping_after_data_gets_each_message_once(
    settings: Settings, pre_reform: Marts, dropping_server: SmtpServer, smtp_server: SmtpServer
) -> None:
    summary = send_alerts(settings, PRE, smtp_conn=dropping_server.uri(retry_limit=5))
    # one delivery attempt per office once the server has the message (it used to be 6)
    assert sorted(str(r.message["X-CT-TE-Office"]) for r in dropping_server.received) == sorted(
        OFFICES
    )
    assert [o.office_code for o in summary.uncertain] == sorted(OFFICES)
    assert not summary.alerted and not summary.failed and not summary.ok
    printed = summary.format()
    assert "không rõ đã đến chưa / delivery uncertain: 3" in printed
    assert "cycle alert 2024-Y --resend-uncertain" in printed
    assert [r[8] for r in log_rows(settings)] == ["uncertain"] * 3
    first_ids = message_ids(dropping_server)

    # the next run does not re-send them blindly (it used to: they were logged `failed`)
    again = send_alerts(settings, PRE, smtp_conn=smtp_server.uri())
    assert smtp_server.received == []
    assert [o.office_code for o in again.uncertain] == sorted(OFFICES)
    assert "--resend-uncertain" in again.format()
    assert len(log_rows(settings)) == 3  # nothing attempted, nothing logged

    # ... unless an office's content changed: that is a new alert
    pre_reform.miss(PRE, "403-health")
    pre_reform.write(settings.warehouse)
    changed = send_alerts(settings, PRE, smtp_conn=smtp_server.uri())
    assert [o.office_code for o in changed.alerted] == ["403"]
    assert [o.office_code for o in changed.uncertain] == ["106", "402"]

    # re-sent on request: the same Message-IDs, so a server that has them can drop the copy
    resent = send_alerts(settings, PRE, smtp_conn=smtp_server.uri(), resend_uncertain=True)
    assert [o.office_code for o in resent.alerted] == ["106", "402"]
    ids = message_ids(smtp_server)
    assert ids["106"] == first_ids["106"] and ids["402"] == first_ids["402"]
    assert ids["403"] != first_ids["403"]  # its content changed
    assert [r[8] for r in log_rows(settings)][-2:] == ["sent", "sent"]
    assert "--resend-uncertain" in str(log_rows(settings)[-1][9])

    final = send_alerts(settings, PRE, smtp_conn=smtp_server.uri())
    assert not final.alerted and not final.uncertain and final.ok
    assert len(final.skipped_unchanged) == 3


def test_connection_lost_before_the_message_is_retried(
    settings: Settings, pre_reform: Marts
) -> None:
    controller, server = start_server(DropFirstMail())
    try:
        summary = send_alerts(settings, PRE, smtp_conn=server.uri(retry_limit=1))
    finally:
        controller.stop()
    assert [o.office_code for o in summary.alerted] == sorted(OFFICES) and summary.ok
    assert sorted(str(r.message["X-CT-TE-Office"]) for r in server.received) == sorted(OFFICES)


# -- Message-IDs and subjects --------------------------------------------------------------------


def test_message_ids_are_stable_per_cycle_office_and_content(
    settings: Settings, pre_reform: Marts, smtp_env: SmtpServer
) -> None:
    preview = send_alerts(settings, PRE, dry_run=True)
    previewed = {str(m["X-CT-TE-Office"]): str(m["Message-ID"]) for m in preview.messages}
    send_alerts(settings, PRE)
    sent = message_ids(smtp_env)
    assert sent == previewed
    assert len(set(sent.values())) == 3
    for office, message_id in sent.items():
        assert message_id.startswith(f"<ct-te.2024-Y.{office}.")
        assert message_id.endswith("@example.gov.vn>")


def _flattened(message: EmailMessage) -> bytes:
    out = io.BytesIO()
    BytesGenerator(out).flatten(message, linesep="\r\n")  # as smtplib sends it
    return out.getvalue()


def _received_subjects(raw: bytes) -> tuple[str, str]:
    """The subject as two readers decode it: the modern parser and RFC 2047 decoding."""
    modern = email.message_from_bytes(raw, policy=email.policy.default)
    legacy = email.message_from_bytes(raw, policy=email.policy.compat32)
    return str(modern["Subject"]), str(make_header(decode_header(str(legacy["Subject"]))))


FINDING = Finding("rule", "error", None, None, None, None, None, None, None, "vi", "en")


def test_vietnamese_subjects_round_trip_for_every_office_name() -> None:
    """Python's folding could put the space between two encoded words outside them, where a
    reader drops it: 'Huyện A Lưới: 1 báo cáochưa nộp' (1 district name in 6)."""
    cycle = Cycle.parse("2024-Y")
    for n, unit in enumerate(reference().units_at("pre_reform", "district")):
        missing, findings = (1, 0) if n % 2 else (3, 12)  # other lengths, other folds
        reporters = [
            ReporterItems(code=f"{i:05d}", name="x", kind="commune", deadline=None, missing=True)
            for i in range(missing)
        ]
        reporters[0].findings = [FINDING] * findings
        alert = OfficeAlert(
            cycle=cycle,
            office_code=unit.code,
            office_level="district",
            office_name=unit.name_vi,
            contact=None,
            reporters=reporters,
            fingerprint=fingerprint(reporters),
        )
        # a whole message costs ~20 ms: the subject alone for most offices, in full for a few
        if unit.code in {"481", "004", "402"}:
            raw = _flattened(alert.message)
        else:
            header_only = EmailMessage(policy=MESSAGE_POLICY)
            header_only["Subject"] = alert.subject
            raw = _flattened(header_only)
        assert _received_subjects(raw) == (alert.subject, alert.subject), raw[:400]
        header = raw.split(b"\r\n\r\n", 1)[0]
        assert max(len(line) for line in header.split(b"\r\n")) <= 78


def test_subject_received_over_smtp_keeps_its_spaces(
    settings: Settings, smtp_env: SmtpServer
) -> None:
    marts = Marts()
    marts.expected(PRE, ["481"])  # Huyện A Lưới
    marts.miss(PRE, "481-police")
    marts.write(settings.warehouse)
    write_demo_contacts(settings.contacts, ["481"])
    assert send_alerts(settings, PRE).ok
    subject = smtp_env.received[0].message["Subject"]
    assert subject == "[CT-TE 2024-Y] Huyện A Lưới: 1 báo cáo chưa nộp / 1 missing return"


# -- the alert step fails when offices could not be alerted --------------------------------------


def test_step_fails_without_an_smtp_connection(
    settings: Settings, pre_reform: Marts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    with pytest.raises(AlertsNotDelivered, match="AIRFLOW_CONN_SMTP_DEFAULT") as raised:
        steps.alert(settings, PRE)
    assert str(raised.value).startswith(
        "Cảnh báo 2024-Y: 3 đơn vị chưa nhận được thư / alerts of 2024-Y not delivered to 3"
    )
    assert [o.office_code for o in raised.value.summary.failed] == sorted(OFFICES)
    # a dry run asked for no sending: it succeeds
    assert len(steps.alert(settings, PRE, dry_run=True).previewed) == 3


def test_step_fails_when_the_server_is_down_or_unsure(
    settings: Settings, pre_reform: Marts, dropping_server: SmtpServer
) -> None:
    nobody = (
        f"smtp://127.0.0.1:{free_port()}?from_email=a%40example.gov.vn&disable_ssl=1&disable_tls=1"
    )
    with pytest.raises(AlertsNotDelivered, match="SMTP server unreachable"):
        steps.alert(settings, PRE, smtp_conn=nobody)
    with pytest.raises(AlertsNotDelivered, match="uncertain: 3"):
        steps.alert(settings, PRE, smtp_conn=dropping_server.uri())
    # still unresolved on the next run: still failing, nothing re-sent
    with pytest.raises(AlertsNotDelivered, match="--resend-uncertain"):
        steps.alert(settings, PRE, smtp_conn=dropping_server.uri())
    assert len(dropping_server.received) == 3


def test_offices_without_contacts_are_a_warning_not_a_failure(
    settings: Settings,
    pre_reform: Marts,
    smtp_env: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_demo_contacts(settings.contacts, ["402", "106"])
    with caplog.at_level(logging.INFO, logger="cycle.steps"):
        summary = steps.alert(settings, PRE)
    assert [o.office_code for o in summary.without_contacts] == ["403"]
    # the step's own warnings (Airflow's secrets masker may warn about `disable_ssl=true`)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "cycle.steps"
    ]
    assert len(warnings) == 1 and "403 Huyện Như Thanh" in warnings[0]
    assert str(settings.contacts) in warnings[0]


def test_step_fails_without_a_contacts_file(
    settings: Settings, pre_reform: Marts, smtp_env: SmtpServer
) -> None:
    settings.contacts.unlink()
    with pytest.raises(AlertsNotDelivered, match="contacts file not found"):
        steps.alert(settings, PRE)


def test_nothing_to_send_needs_no_connection(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    marts = Marts()
    marts.expected(PRE, ["404"])  # every return in, no finding
    marts.write(settings.warehouse)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    assert steps.alert(settings, PRE).outcomes == []


# -- the command line ------------------------------------------------------------------------------


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    paths = ["--warehouse", settings.warehouse, "--contacts", str(settings.contacts)]
    result = CliRunner().invoke(main, ["alert", *args, *paths], catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_exits_non_zero_when_offices_were_not_alerted(
    settings: Settings, pre_reform: Marts, monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    code, output = cli(settings, "2024-Y")
    assert code == 1
    assert "gửi không được / failed: 3" in output
    assert "Traceback" not in output
    assert output.rstrip().splitlines()[-1].startswith("Cảnh báo 2024-Y: 3 đơn vị")

    assert cli(settings, "2024-Y", "--dry-run")[0] == 0
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_server.uri())
    code, output = cli(settings, "2024-Y")
    assert code == 0, output
    assert "đã gửi / sent: 3" in output


def test_cli_resends_uncertain_alerts_on_request(
    settings: Settings,
    pre_reform: Marts,
    monkeypatch: pytest.MonkeyPatch,
    dropping_server: SmtpServer,
    smtp_server: SmtpServer,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", dropping_server.uri())
    code, output = cli(settings, "2024-Y")
    assert code == 1 and "--resend-uncertain" in output
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_server.uri())
    assert cli(settings, "2024-Y")[0] == 1 and smtp_server.received == []
    code, output = cli(settings, "2024-Y", "--resend-uncertain")
    assert code == 0, output
    assert len(smtp_server.received) == 3


def test_cli_without_the_quality_marts_says_what_to_run(settings: Settings) -> None:
    code, output = cli(settings, "2024-Y")
    assert code == 1
    assert "cycle validate 2024-Y" in output and "Traceback" not in output


def test_a_run_goes_on_and_reports_offices_not_alerted(
    settings: Settings, pre_reform: Marts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cycle run` of several cycles: one cycle's failed alerts do not stop the next cycle's
    steps; the run lists them at the end (and the command line exits 1)."""
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    summary, reason = steps._alert_in_run(settings, PRE, dry_run=False)
    assert len(summary.failed) == 3
    assert reason is not None and reason.startswith("Cảnh báo 2024-Y: 3 đơn vị")
    run = steps.RunSummary([steps.CycleRun("2024-Y", alert=summary, alerts_undelivered=reason)])
    assert run.alerts_undelivered() == [reason]
    assert steps._alert_in_run(settings, PRE, dry_run=True)[1] is None
