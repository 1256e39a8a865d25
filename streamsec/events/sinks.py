"""Where the sealed audit events of tools go (key lifecycle, role decryptions).

:class:`~streamsec.events.trail.AuditTrail` (the one owner of audit chains, also
used by the worker's pipeline) chains and signs events with the actor's own audit
signing key; ``streamsec audit verify`` checks them with the trust store. Sinks
write each event's canonical JSON (what its digest covers).

An :class:`AuditSink` delivers sealed events: :class:`FileAuditSink` appends JSON
Lines (offline use), :class:`MemoryAuditSink` keeps them (tests); the Kafka sink is
:class:`streamsec.kafka.KafkaAuditSink`. Events never carry a value.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from streamsec.events.canonical import wire
from streamsec.settings import Settings

__all__ = [
    "AuditSink",
    "FileAuditSink",
    "MemoryAuditSink",
    "actor_id",
]

Event = dict[str, Any]


def actor_id(settings: Settings | None, tool: str) -> str:
    """Who acts, as the ``worker`` of events: the configured worker id, or tool@host-pid."""
    if settings is not None and settings.worker_id:
        return settings.worker_id
    return f"{tool}@{socket.gethostname()}-{os.getpid()}"


class AuditSink(Protocol):
    async def send(self, events: Sequence[Event]) -> None:
        """Deliver sealed events in order; raise when they could not be delivered."""
        ...


class FileAuditSink:
    """Appends events as JSON Lines, flushed and fsynced on every send."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileAuditSink({str(self.path)!r})"

    async def send(self, events: Sequence[Event]) -> None:
        if not events:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            for event in events:
                handle.write(wire(event).decode("utf-8") + "\n")
            handle.flush()
            os.fsync(handle.fileno())


class MemoryAuditSink:
    """Keeps every event in :attr:`events` (tests, dry runs)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def send(self, events: Sequence[Event]) -> None:
        self.events.extend(events)
