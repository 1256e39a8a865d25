"""One tamper-evident audit chain per (worker, partition, run).

:class:`AuditChain` is the only stateful piece of the audit trail: it numbers
events (``seq`` 0, 1, 2, ...), links each to the previous one (``prev``), and seals
it (``digest``, ``mac``; see :mod:`streamsec.events.canonical`). Every
``checkpoint_every`` events, and on :meth:`AuditChain.close`, it emits a sealed
``io.streamsec.audit.checkpoint`` event naming the chain's last seq and digest; the
final one has ``final: true``, so a verifier can tell a closed chain whose tail was
cut off from a complete one.

The chain id is ``<worker id>/<partition or ->/<run>``; ``run`` is random per
chain instance, so a restarted worker never reuses a chain id. CloudEvents
Integers are 32-bit: a chain that reaches ``max_seq`` closes itself with a final
checkpoint and continues as a new segment (``<run>.1``, ``<run>.2``, ...).

Usage (the worker): send every event :meth:`append` returns, in order, and the
event :meth:`close` returns when the partition is revoked or the worker stops. A
failed send must stop the worker: a lost event shows as ``deleted`` on verify.
With transactions, take :meth:`mark` when one begins and :meth:`rollback` to it
when it aborts (read_committed readers never see the aborted events).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NoReturn

from streamsec.events.canonical import digest_and_mac, genesis
from streamsec.events.cloudevents import INT32_MAX, EventType, new_event, worker_source

__all__ = ["CHAIN_ATTRIBUTES", "DEFAULT_CHECKPOINT_EVERY", "AuditChain", "ChainMark"]

DEFAULT_CHECKPOINT_EVERY: Final = 1000
CHAIN_ATTRIBUTES: Final = ("chain", "seq", "prev", "digest", "mac")


@dataclass(frozen=True, slots=True)
class ChainMark:
    """A chain position to roll back to (see :meth:`AuditChain.rollback`)."""

    segment: int
    seq: int
    prev: str
    since_checkpoint: int
    closed: bool


class AuditChain:
    """Numbers, links and seals the audit events of one worker and partition."""

    __slots__ = (
        "_base_run",
        "_checkpoint_every",
        "_clock",
        "_closed",
        "_key",
        "_max_seq",
        "_prev",
        "_segment",
        "_seq",
        "_since_checkpoint",
        "key_id",
        "partition",
        "worker_id",
    )

    def __init__(
        self,
        key: bytes,
        *,
        key_id: str,
        worker_id: str,
        partition: int | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        run: str | None = None,
        max_seq: int = INT32_MAX,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if len(key) < 16:
            raise ValueError("the audit key must be at least 16 bytes")
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        if not 3 <= max_seq <= INT32_MAX:
            raise ValueError("max_seq must be between 3 and 2**31 - 1")
        self._key = bytes(key)
        self.key_id = key_id
        self.worker_id = worker_id
        self.partition = partition
        self._checkpoint_every = checkpoint_every
        self._base_run = run if run is not None else uuid.uuid4().hex[:16]
        self._max_seq = max_seq
        self._clock = clock if clock is not None else _utc_now
        self._segment = 0
        self._closed = False
        self._reset()

    def _reset(self) -> None:
        self._seq = 0
        self._prev = genesis(self.chain_id)
        self._since_checkpoint = 0

    @property
    def chain_id(self) -> str:
        part = "-" if self.partition is None else str(self.partition)
        run = self._base_run if self._segment == 0 else f"{self._base_run}.{self._segment}"
        return f"{self.worker_id}/{part}/{run}"

    @property
    def next_seq(self) -> int:
        return self._seq

    @property
    def last_digest(self) -> str:
        """Digest of the last sealed event (the chain's genesis value before the first)."""
        return self._prev

    @property
    def closed(self) -> bool:
        return self._closed

    def append(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Seal ``event``; returns it, preceded/followed by any checkpoint now due."""
        if self._closed:
            raise RuntimeError("the audit chain is closed")
        out: list[dict[str, Any]] = []
        if self._seq + 2 > self._max_seq:  # keep room for the final checkpoint
            out.append(self._checkpoint(final=True))
            self._segment += 1
            self._reset()
        out.append(self._seal(event))
        self._since_checkpoint += 1
        if self._since_checkpoint >= self._checkpoint_every:
            out.append(self._checkpoint(final=False))
        return out

    def checkpoint(self) -> dict[str, Any]:
        """A periodic checkpoint now (e.g. on a timer)."""
        if self._closed:
            raise RuntimeError("the audit chain is closed")
        return self._checkpoint(final=False)

    def close(self) -> dict[str, Any]:
        """The final checkpoint; the chain accepts no event after it."""
        if self._closed:
            raise RuntimeError("the audit chain is closed")
        event = self._checkpoint(final=True)
        self._closed = True
        return event

    def mark(self) -> ChainMark:
        """The current position, e.g. when a Kafka transaction begins."""
        return ChainMark(self._segment, self._seq, self._prev, self._since_checkpoint, self._closed)

    def rollback(self, mark: ChainMark) -> None:
        """Forget the events sealed since ``mark``: they were never delivered (an aborted
        transaction). The next event reuses their seqs, so the chain stays unbroken."""
        self._segment = mark.segment
        self._seq = mark.seq
        self._prev = mark.prev
        self._since_checkpoint = mark.since_checkpoint
        self._closed = mark.closed

    def _checkpoint(self, *, final: bool) -> dict[str, Any]:
        data = {
            "worker": self.worker_id,
            "partition": self.partition,
            "last_seq": self._seq - 1 if self._seq else None,
            "last_digest": self._prev if self._seq else None,
            "count": self._seq,
            "interval": self._checkpoint_every,
            "final": final,
        }
        event = new_event(
            EventType.AUDIT_CHECKPOINT,
            source=worker_source(self.worker_id),
            subject=self.chain_id,
            data=data,
            time=self._clock(),
        )
        self._since_checkpoint = 0
        return self._seal(event)

    def _seal(self, event: Mapping[str, Any]) -> dict[str, Any]:
        clash = [name for name in CHAIN_ATTRIBUTES if name in event]
        if clash:
            raise ValueError(f"event already has chain attributes: {', '.join(clash)}")
        data = event.get("data")
        if not isinstance(data, Mapping):
            raise ValueError("audit events carry a JSON object as data")
        sealed = dict(event)
        sealed["data"] = {**data, "audit_key_id": self.key_id}
        sealed["chain"] = self.chain_id
        sealed["seq"] = self._seq
        sealed["prev"] = self._prev
        sealed["digest"], sealed["mac"] = digest_and_mac(self._key, sealed)
        self._prev = sealed["digest"]
        self._seq += 1
        return sealed

    def __repr__(self) -> str:
        return f"AuditChain(chain={self.chain_id}, next_seq={self._seq}, key_id={self.key_id})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("key material cannot be pickled")


def _utc_now() -> datetime:
    return datetime.now(UTC)
