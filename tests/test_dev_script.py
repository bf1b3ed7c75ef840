"""`./dev` syncs `.venv` only when something it depends on changed (issue 12: every call
re-synced for ~27 s)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT


def dev_setup() -> str:
    done = subprocess.run(
        ["bash", str(ROOT / "dev"), "setup"], capture_output=True, text=True, check=True
    )
    return done.stdout + done.stderr


def test_dev_skips_the_sync_when_nothing_changed() -> None:
    stamp = ROOT / ".venv" / ".synced"
    if not stamp.exists():
        pytest.skip(".venv was not set up by ./dev")
    dev_setup()  # syncs only if uv.lock or pyproject.toml changed since the last sync
    key = stamp.read_text()
    assert "syncing" not in dev_setup()
    assert stamp.read_text() == key
