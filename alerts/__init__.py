"""Alerts: after a cycle's quality checks, each office (district before the July 2025 reform,
province after it) gets one email about its own communes' and agencies' missing returns and
data problems, sent once per change and logged in the step ledger (alerts.log)."""

from alerts.compose import AlertPlan, OfficeAlert, compose_alerts
from alerts.contacts import read_contacts, write_demo_contacts
from alerts.send import AlertsNotDelivered, AlertSummary, OfficeOutcome, build_alerts, send_alerts
from alerts.smtp import SmtpConfig, SmtpConfigError, smtp_config

__all__ = [
    "AlertPlan",
    "AlertSummary",
    "AlertsNotDelivered",
    "OfficeAlert",
    "OfficeOutcome",
    "SmtpConfig",
    "SmtpConfigError",
    "build_alerts",
    "compose_alerts",
    "read_contacts",
    "send_alerts",
    "smtp_config",
    "write_demo_contacts",
]
