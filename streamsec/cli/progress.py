"""A progress bar for long file and topic jobs: rich, on stderr, only on a terminal.

    with progress("protecting", total=size_in_bytes, unit="bytes") as bar:
        bar.advance(n)

When stderr is not a terminal (a pipe, a file, CI) or ``enabled`` is false, the
bar is a no-op, so output redirected to a file never holds control characters.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["Bar", "file_size", "progress", "tracked_lines"]


class Bar(Protocol):
    def advance(self, amount: float = 1) -> None: ...

    def update(self, completed: float) -> None: ...


class _NoBar:
    def advance(self, amount: float = 1) -> None:
        pass

    def update(self, completed: float) -> None:
        pass


class _RichBar:
    def __init__(self, bar: Progress, task: TaskID) -> None:
        self._bar, self._task = bar, task

    def advance(self, amount: float = 1) -> None:
        self._bar.advance(self._task, amount)

    def update(self, completed: float) -> None:
        self._bar.update(self._task, completed=completed)


def is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def progress(
    description: str, *, total: float | None = None,
    unit: Literal["records", "bytes"] = "records", enabled: bool = True,
) -> Iterator[Bar]:
    """A bar on stderr when it is a terminal (and ``enabled``); else a no-op."""
    if not enabled or not is_terminal():
        yield _NoBar()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    count = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    columns = (
        [SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,.0f}"),
         TextColumn(unit), TimeElapsedColumn()]
        if total is None
        else [TextColumn("{task.description}"), BarColumn(), count, TimeRemainingColumn()]
    )
    console = Console(file=sys.stderr, force_terminal=True)
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield _RichBar(bar, task)


def file_size(path: str | None) -> int | None:
    """Size of an input file (the bar's total), ``None`` for stdin or when unknown."""
    if path in (None, "-"):
        return None
    try:
        return Path(str(path)).stat().st_size
    except OSError:
        return None


def tracked_lines(lines: Iterable[bytes], bar: Bar) -> Iterator[bytes]:
    """``lines`` as they are, advancing ``bar`` by the bytes read."""
    for line in lines:
        bar.advance(len(line))
        yield line
