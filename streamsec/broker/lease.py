"""Leases on a shared local broker, so one test session does not stop it under another.

:func:`hold_broker` is what test sessions and benchmarks use: it takes a lease (a file
naming this pid), starts the broker if needed, and on exit releases the lease. The last
holder stops the broker, but only if a holder started it: a broker brought up with
``streamsec broker up`` stays up. Leases of dead processes are stale and ignored.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from streamsec.broker.local import LocalBroker
from streamsec.broker.locks import file_lock
from streamsec.broker.process import process_alive

__all__ = ["acquire_lease", "hold_broker", "live_leases", "release_lease"]


def acquire_lease(leases_dir: Path) -> Path:
    """Take a lease for this process; returns the lease file."""
    leases_dir.mkdir(parents=True, exist_ok=True)
    lease = leases_dir / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.lease"
    lease.write_text(f"{os.getpid()}\n", encoding="ascii")
    return lease


def live_leases(leases_dir: Path) -> list[Path]:
    """Leases held by live processes; stale ones are deleted."""
    live: list[Path] = []
    if not leases_dir.is_dir():
        return live
    for lease in sorted(leases_dir.glob("*.lease")):
        try:
            pid = int(lease.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            pid = -1
        if pid > 0 and process_alive(pid):
            live.append(lease)
        else:
            with contextlib.suppress(OSError):
                lease.unlink()
    return live


def release_lease(lease: Path) -> bool:
    """Drop ``lease``; True if no other live lease remains (the caller was the last)."""
    with contextlib.suppress(FileNotFoundError):
        lease.unlink()
    return not live_leases(lease.parent)


@contextlib.contextmanager
def hold_broker(broker: LocalBroker, *, timeout: float = 120.0) -> Iterator[str]:
    """Run the ``with`` body with ``broker`` up; yields its bootstrap address."""
    layout = broker.layout
    with file_lock(layout.leases_lock):
        lease = acquire_lease(layout.leases_dir)
        if not broker.is_running():
            layout.auto_stop_marker.parent.mkdir(parents=True, exist_ok=True)
            layout.auto_stop_marker.touch()
    try:
        yield broker.start(timeout=timeout)
    finally:
        with file_lock(layout.leases_lock):
            if release_lease(lease) and layout.auto_stop_marker.exists():
                broker.stop()
                layout.auto_stop_marker.unlink(missing_ok=True)
