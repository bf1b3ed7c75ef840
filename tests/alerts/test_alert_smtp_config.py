"""The SMTP connection, read by Airflow's SmtpHook (apache-airflow-providers-smtp): its extras and
defaults, wherever Airflow keeps the connection; what it would misread is refused."""

from __future__ import annotations

import json

import pytest

from alerts.smtp import SmtpConfig, SmtpConfigError, smtp_config


def test_uri_form() -> None:
    config = smtp_config(
        "smtp://alerts:p%40ss%3Aword@127.0.0.1:1025?from_email=ct-te%40example.gov.vn"
        "&disable_ssl=true&disable_tls=true&timeout=5&retry_limit=1"
    )
    assert config == SmtpConfig(
        conn_type="smtp",
        host="127.0.0.1",
        port=1025,
        login="alerts",
        password="p@ss:word",
        from_email="ct-te@example.gov.vn",
        use_ssl=False,
        starttls=False,
        timeout=5,
        retry_limit=1,
    )
    assert config.describe() == "smtp://alerts@127.0.0.1:1025 (plain)"
    assert "p@ss" not in config.describe()


def test_defaults_are_smtp_hooks() -> None:
    """SSL on, STARTTLS on, 30 s time-out, 5 retries, no sender: as SmtpHook has them."""
    config = smtp_config("smtp://mail.example.gov.vn")
    assert (config.use_ssl, config.starttls, config.timeout, config.retry_limit) == (
        True,
        True,
        30,
        5,
    )
    assert config.port is None and config.from_email is None and config.login == ""


def test_json_form() -> None:
    extra = {"from_email": "ct-te@example.gov.vn", "disable_ssl": True, "disable_tls": False}
    config = smtp_config(
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": "1025",
                "login": "alerts",
                "password": "s3cret",
                "extra": {**extra, "timeout": 7, "retry_limit": 0},
            }
        )
    )
    assert (config.host, config.port, config.login, config.password) == (
        "127.0.0.1",
        1025,
        "alerts",
        "s3cret",
    )
    assert (config.use_ssl, config.starttls, config.timeout, config.retry_limit) == (
        False,
        True,
        7,
        0,
    )


def test_false_looking_text_is_refused_rather_than_read_as_true() -> None:
    with pytest.raises(SmtpConfigError, match="disable_ssl=true there"):
        smtp_config("smtp://mail?disable_ssl=false")
    assert smtp_config('{"host": "mail", "extra": {"disable_ssl": false}}').use_ssl


@pytest.mark.parametrize(
    "value, message",
    [
        ("smtp://:25", "no host"),
        ("smtp://mail?timeout=soon", "whole numbers"),
        ("smtp://mail?auth_type=oauth2", "oauth2"),
        ("smtp://mail?ssl_context=strict", "ssl_context"),
        ("{not json", "the SMTP connection: "),
        ('{"host": "mail", "port": "x"}', "port"),
    ],
)
def test_bad_connections_say_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(SmtpConfigError, match=message):
        smtp_config(value)


def test_environment_and_connection_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", "smtp://default-relay:25")
    monkeypatch.setenv("AIRFLOW_CONN_MAILCATCHER", "smtp://catcher:1025?disable_ssl=1")
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN", "smtp://")
    assert smtp_config().host == "default-relay"
    assert smtp_config("mailcatcher").host == "catcher"
    assert smtp_config("smtp://direct:2525").port == 2525
    with pytest.raises(SmtpConfigError, match="AIRFLOW_CONN_BROKEN: the SMTP connection has"):
        smtp_config("broken")
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT")
    with pytest.raises(SmtpConfigError, match="set AIRFLOW_CONN_SMTP_DEFAULT"):
        smtp_config()
