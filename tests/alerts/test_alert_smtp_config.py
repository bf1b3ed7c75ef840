"""The SMTP connection string: read as Airflow's SmtpHook reads it, without importing Airflow."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alerts.smtp import SmtpConfig, SmtpConfigError, parse_smtp_connection, smtp_config

AGREEMENT_CASES = [
    "smtp://127.0.0.1:1025?from_email=ct-te%40example.gov.vn&disable_ssl=true&disable_tls=true",
    "smtp://alerts%40example.gov.vn:p%40ss%3Aw%2Frd@mail.example.gov.vn:587"
    "?from_email=ct-te%40example.gov.vn&disable_ssl=true&timeout=10&retry_limit=2",
    "smtp://user:secret@Mail.Example.gov.vn:465?from_email=a%40example.gov.vn&disable_tls=1",
    "smtp://mailcatcher?disable_ssl=yes&disable_tls=on&ssl_context=none",
    "smtp://relay:25?__extra__=%7B%22disable_ssl%22%3A+true%2C+%22disable_tls%22%3A+false"
    "%2C+%22from_email%22%3A+%22x%40example.gov.vn%22%7D",
    json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": "1025",
            "login": "alerts",
            "password": "s3cret",
            "extra": {
                "from_email": "ct-te@example.gov.vn",
                "disable_ssl": True,
                "disable_tls": False,
                "timeout": 7,
                "retry_limit": 0,
            },
        }
    ),
    json.dumps(
        {
            "conn_type": "smtp",
            "host": "mail",
            "port": 587,
            "extra": json.dumps({"disable_ssl": True}),
        }
    ),
]


def test_uri_form() -> None:
    config = parse_smtp_connection(
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
    config = parse_smtp_connection("smtp://mail.example.gov.vn")
    assert (config.use_ssl, config.starttls, config.timeout, config.retry_limit) == (
        True,
        True,
        30,
        5,
    )
    assert config.port is None and config.from_email is None and config.login == ""


def test_json_form() -> None:
    config = parse_smtp_connection(AGREEMENT_CASES[5])
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
        parse_smtp_connection("smtp://mail?disable_ssl=false")
    assert parse_smtp_connection('{"host": "mail", "extra": {"disable_ssl": false}}').use_ssl


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "empty"),
        ("smtp://:25", "no host"),
        ("smtp://mail?timeout=soon", "timeout must be a whole number"),
        ("smtp://mail?auth_type=oauth2", "oauth2"),
        ("smtp://mail?ssl_context=strict", "ssl_context"),
        ("{not json", "not valid JSON"),
        ('{"host": "mail", "port": "x"}', "integer port"),
    ],
)
def test_bad_connections_say_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(SmtpConfigError, match=message):
        parse_smtp_connection(value)


def test_environment_and_connection_ids() -> None:
    env = {
        "AIRFLOW_CONN_SMTP_DEFAULT": "smtp://default-relay:25",
        "AIRFLOW_CONN_MAILCATCHER": "  smtp://catcher:1025?disable_ssl=1  ",
    }
    assert smtp_config(environ=env).host == "default-relay"
    assert smtp_config("mailcatcher", environ=env).host == "catcher"
    assert smtp_config("smtp://direct:2525", environ=env).port == 2525
    with pytest.raises(SmtpConfigError, match="set AIRFLOW_CONN_SMTP_DEFAULT"):
        smtp_config(environ={})
    with pytest.raises(SmtpConfigError, match="AIRFLOW_CONN_BROKEN: the SMTP connection has"):
        smtp_config("broken", environ={"AIRFLOW_CONN_BROKEN": "smtp://"})


def _airflow_view(value: str) -> dict[str, Any]:
    """What Airflow's own Connection parsing and SmtpHook make of a connection string."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk.definitions.connection import Connection

    value = value.strip()
    conn = (
        Connection.from_json(value, conn_id="smtp_default")
        if value.startswith("{")
        else Connection.from_uri(value, conn_id="smtp_default")
    )
    hook = SmtpHook()
    hook.smtp_connection = conn
    return {
        "conn_type": conn.conn_type,
        "host": hook.host,
        "port": conn.port,
        "login": hook.smtp_user,
        "password": hook.smtp_password,
        "from_email": hook.from_email,
        "use_ssl": hook.use_ssl,
        "starttls": hook.smtp_starttls,
        "timeout": hook.timeout,
        "retry_limit": hook.smtp_retry_limit,
        "ssl_context": hook.ssl_context,
        "uri": conn.get_uri(),
    }


def test_parsing_agrees_with_airflow() -> None:
    # Airflow runs in this process with the test process's AIRFLOW_HOME (tests/conftest.py): a
    # home of its own here would stay Airflow's for every later test in the process (DAG tests).
    for value in AGREEMENT_CASES:
        airflow = _airflow_view(value)
        ours = parse_smtp_connection(value)
        assert {k: getattr(ours, k) for k in airflow if k != "uri"} == {
            k: v for k, v in airflow.items() if k != "uri"
        }, value
        # Airflow's own URI of the connection (how the DAG can hand it to the CLI) reads the same
        assert parse_smtp_connection(airflow["uri"]) == ours, airflow["uri"]
