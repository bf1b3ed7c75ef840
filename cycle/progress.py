"""Progress for long steps: a bar on a terminal, nothing in logs."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """Yield (advance, set_total) callbacks; both do nothing unless stderr is a terminal."""
    if not sys.stderr.isatty():
        yield (lambda _n: None), (lambda _n: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)
        yield (lambda n: bar.advance(task, n)), (lambda n: bar.update(task, total=n))
