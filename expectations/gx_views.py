"""Data Docs page views whose Jinja templates compile once per machine instead of on every
build: GX gives each page builder a fresh Jinja environment, so every run recompiled the same
templates (~0.3 s of the ~0.5 s a national run's Data Docs took). The pages are the same.

GX imports this module itself (by name, from the site configuration in `gx_runtime`), only
when it builds Data Docs; it must not be imported before GX.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from great_expectations.render.view.view import DefaultJinjaIndexPageView, DefaultJinjaPageView


@cache
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's compiled templates in the user's private temporary folder (checked against the
    template's source and the Python and Jinja versions when read back); none when that folder
    cannot be made safe: the pages are then compiled as before."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


class CachedJinjaPageView(DefaultJinjaPageView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _bytecode_cache()


class CachedJinjaIndexPageView(DefaultJinjaIndexPageView):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = _bytecode_cache()
