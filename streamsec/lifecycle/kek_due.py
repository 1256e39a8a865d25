"""A KEK rotation owed after an erasure, when it is not done at once.

Destroying a subject's data keys does not erase them from copies of the key store
taken before (backups, snapshots): those still hold the keys, wrapped under the
current KEK version. Only rotating the KEK and destroying its old version in the
provider (``streamsec keys rotate-kek``) makes such copies useless. ``keys forget``
rotates at once by default; with ``--rotate-kek-within SECONDS`` it records here
the latest time the rotation is due (one rotation then serves every erasure of
the window), and ``keys rotate-kek --if-due`` (from cron) performs it.

The marker is a small file beside the key store, ``<keyring>.kek-rotation-due``,
holding one UTC ISO-8601 time (the earliest deadline recorded), mode 0600.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["clear", "due", "due_file", "schedule"]


def due_file(keyring: Path) -> Path:
    return keyring.with_name(keyring.name + ".kek-rotation-due")


def due(keyring: Path) -> datetime | None:
    """The deadline of the rotation owed, or ``None`` when none is owed."""
    try:
        text = due_file(keyring).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.now(UTC)  # unreadable: owed now (fail closed)


def schedule(keyring: Path, within: float, *, now: datetime | None = None) -> datetime:
    """Record that a rotation is owed within ``within`` seconds; returns the deadline
    (an earlier deadline already recorded stands)."""
    deadline = (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(seconds=within)
    current = due(keyring)
    if current is not None and current <= deadline:
        return current
    path = due_file(keyring)
    path.parent.mkdir(parents=True, exist_ok=True)  # no keyring file with the Kafka store
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(deadline.isoformat() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return deadline


def clear(keyring: Path) -> None:
    """The rotation was done: nothing is owed."""
    due_file(keyring).unlink(missing_ok=True)
