"""Fixtures for the alerts: a real SMTP server on 127.0.0.1, settings on a DuckDB file, and a
throwaway PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_support import (
    CLEAN_OFFICE,
    OFFICES,
    Authenticator,
    Marts,
    SmtpServer,
    scenario,
    start_server,
)

from alerts import write_demo_contacts
from core.settings import Settings
from tests.conftest import settings_under


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_under(tmp_path)


@pytest.fixture
def pre_reform(settings: Settings) -> Marts:
    """The shared scenario in the DuckDB warehouse, with contacts for every district."""
    marts = scenario()
    marts.write(settings.warehouse)
    write_demo_contacts(settings.contacts, [*OFFICES, CLEAN_OFFICE])
    return marts


# -- SMTP ---------------------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 and a free port, collecting what it receives."""
    controller, server = start_server()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server_with_login() -> Iterator[SmtpServer]:
    """The same, offering AUTH (user `alerts`, password `s3cret:p@ss`) over plain text, as a
    local relay may. (`auth_required=True` without TLS makes aiosmtpd warn.)"""
    controller, server = start_server(
        authenticator=Authenticator("alerts", "s3cret:p@ss"), auth_require_tls=False
    )
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer) -> SmtpServer:
    """AIRFLOW_CONN_SMTP_DEFAULT pointing at the test server, as a deployment sets it."""
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_server.uri())
    return smtp_server
