"""The cyclic garbage collector, paused while a step builds many objects it keeps."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block. For a step that makes hundreds of thousands of
    small objects and keeps them (figures, indexed marts, composed messages): each collection
    would walk them all again and free nothing. Reference counting still frees what is
    dropped; the collector is enabled again after the block, if it was before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
