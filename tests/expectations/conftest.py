"""Fixtures for the quality checks: GX imported once per session, and a world with one planted
problem per rule (`planted_worlds`)."""

from __future__ import annotations

from types import ModuleType

import pytest
from planted_worlds import Planted, planted_world


@pytest.fixture(scope="session")
def gx() -> ModuleType:
    """GX, imported once for the whole session (the import takes ~6 s)."""
    from expectations.gx_runtime import import_gx

    return import_gx()


@pytest.fixture
def planted() -> Planted:
    return planted_world()
