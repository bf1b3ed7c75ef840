"""Why a cycle's reports cannot be written: messages for the user (Vietnamese / English), which
the command line prints without a traceback. A module of its own, light to import."""

from __future__ import annotations

from core.errors import UserError


class NoReportData(UserError):
    """The warehouse holds no figures for a cycle whose returns were received (transform has
    not run), or the cycle's inbox holds returns not ingested yet."""


class MissingMarts(UserError):
    """The warehouse lacks a mart the reports read (dbt has not built it)."""
