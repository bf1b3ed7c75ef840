"""The one kind of error a user can fix: `cycle` prints its message as one line, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or setup (a wrong path or URL, a missing database...).

    Its message is one line saying what is wrong and what to do, in Vietnamese then English
    ("... / ..."). The command line catches it once (`cycle.cli.main`) and exits 1; under
    Airflow the task fails with the same message."""
