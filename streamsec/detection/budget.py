"""A per-record time budget for detection, checked between chunks of work.

Python cannot interrupt a running regex or NER call, so the budget is enforced
cooperatively: the pipeline opens a :func:`deadline` around one record (or one
batch of small records) and the detector calls :func:`check` between chunks of
at most a few thousand characters. A record overruns its budget by at most one
chunk's work, then fails with :class:`~streamsec.errors.RecordTooSlowError`
(reason ``too_slow``). The deadline lives in a context variable, so each
executor thread has its own.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from streamsec.errors import RecordTooSlowError

__all__ = ["check", "deadline", "remaining", "resume", "stop_all", "stopping"]

_STOP = threading.Event()

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "streamsec_deadline", default=None
)


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Work inside must finish within ``seconds`` (``None``: no budget)."""
    token = _DEADLINE.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining() -> float | None:
    """Seconds left (negative once over), or ``None`` without a budget."""
    end = _DEADLINE.get()
    return None if end is None else end - time.monotonic()


def check() -> None:
    """Raise :class:`RecordTooSlowError` once the budget is spent, or once the worker
    is stopping (its caller then discards the batch unsent: nothing is acked)."""
    end = _DEADLINE.get()
    if end is not None and time.monotonic() > end:
        raise RecordTooSlowError("record took longer than its time budget")
    if _STOP.is_set():
        raise RecordTooSlowError("the worker is stopping")


def stop_all() -> None:
    """The process is stopping: every budget check from now on fails at once, so a
    batch in progress ends within one chunk of work."""
    _STOP.set()


def stopping() -> bool:
    return _STOP.is_set()


def resume() -> None:
    """Undo :func:`stop_all` (tests; a process that stops never resumes)."""
    _STOP.clear()
