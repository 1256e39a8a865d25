"""Plain values passed between the worker's pure pipeline and its agent.

A :class:`SourceRecord` is one raw Kafka record as read; the pipeline turns each
into one :class:`Outcome`: the messages to send (protected record, audit and
lineage events, or a dead letter plus its audit event) and metadata for metrics.
None of these types does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streamsec.frozen import quick_init

__all__ = ["Header", "OutMessage", "Outcome", "SourceRecord"]

Header = tuple[str, bytes]


@quick_init
@dataclass(frozen=True, slots=True)
class SourceRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = None
    """Broker timestamp in seconds since the epoch, when known."""
    headers: tuple[Header, ...] = ()
    """Input headers allowed to reach the protected record (see ``pipeline.headers``)."""

    @property
    def coordinates(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


@quick_init
@dataclass(frozen=True, slots=True)
class OutMessage:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one source record: every message it produces, in send order."""

    source: SourceRecord
    messages: tuple[OutMessage, ...]
    reason: str | None = None
    """``None`` when the record was protected; else the error's fixed reason code."""
    detections: tuple[str, ...] = field(default_factory=tuple)
    """Entity type of each detection (one entry per finding)."""
    actions: tuple[str, ...] = field(default_factory=tuple)
    """Action name of each field action applied."""

    @property
    def dead_lettered(self) -> bool:
        return self.reason is not None
