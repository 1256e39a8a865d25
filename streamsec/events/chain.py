"""One hash-chained, checkpoint-signed audit chain per (writer, scope, partition, run).

:class:`AuditChain` numbers events (``seq`` 0, 1, 2, ...), links each to the
previous one (``prev``) and gives it a ``digest`` (see
:mod:`streamsec.events.canonical`). Events are **not** signed one by one (Ed25519
verification is ~20k/s; the trail must verify faster). Instead the writer calls
:meth:`AuditChain.checkpoint` once per delivered batch: a *checkpoint* event,
signed with the writer's Ed25519 key, that names the digests of every event since
the previous checkpoint and whose ``prev`` is the chain head. Once a batch and its
checkpoint are out, every event of the batch is covered by a signature; one the
writer cannot produce without its private key. :meth:`close` writes the final
checkpoint (``final: true``).

A crash between an event and its checkpoint leaves that event unsigned: the
worker that takes the partition over closes the chain with a signed handover
record (:func:`streamsec.events.digests.abandoned`), and ``audit verify`` reports
those events as *attested by the successor only*.

The chain id is ``<writer>/<scope>/<partition or ->/<run>``; ``run`` is random
per chain instance, so a restarted writer never reuses a chain id. CloudEvents
Integers are 32-bit: a chain that reaches ``max_seq`` closes itself with a final
checkpoint and continues as a new segment (``<run>.1``, ``<run>.2``, ...).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NoReturn

from streamsec.events.canonical import (
    compute_digest,
    digest_and_message,
    genesis,
    signed_message,
)
from streamsec.events.cloudevents import INT32_MAX, EventType, new_event, worker_source
from streamsec.events.signing import AuditSigner

__all__ = [
    "CHAIN_ATTRIBUTES", "PREFIX_LEN", "AuditChain", "ChainMark", "Records", "sign_event",
]

Records = tuple[tuple[int, ...], tuple[str, ...]]
"""A batch event's entries: (offsets, entry digests), see :mod:`streamsec.events.batch`."""

CHAIN_ATTRIBUTES: Final = ("chain", "seq", "prev", "digest", "sig")
PREFIX_LEN: Final = 16
"""Hex digits of each event digest listed in a checkpoint (to name a changed seq)."""


def sign_event(signer: AuditSigner, event: dict[str, Any]) -> dict[str, Any]:
    """Add ``sig`` (base64 Ed25519 over the event without ``sig``) to ``event``."""
    event["sig"] = base64.b64encode(signer.sign(signed_message(event))).decode("ascii")
    return event


@dataclass(frozen=True, slots=True)
class ChainMark:
    """A chain position to roll back to (see :meth:`AuditChain.rollback`)."""

    segment: int
    seq: int
    prev: str
    pending: tuple[str, ...]
    closed: bool
    records: tuple[tuple[int, Records], ...] = ()


class AuditChain:
    """Numbers, links and checkpoint-signs the audit events of one writer and partition."""

    __slots__ = (
        "_base_run",
        "_clock",
        "_closed",
        "_max_seq",
        "_pending",
        "_prev",
        "_records",
        "_segment",
        "_seq",
        "_signer",
        "partition",
        "scope",
        "stream",
        "worker_id",
    )

    def __init__(
        self,
        signer: AuditSigner,
        *,
        worker_id: str,
        scope: str = "-",
        partition: int | None = None,
        run: str | None = None,
        stream: str | None = None,
        max_seq: int = INT32_MAX,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not 3 <= max_seq <= INT32_MAX:
            raise ValueError("max_seq must be between 3 and 2**31 - 1")
        self._signer = signer
        self.worker_id = worker_id
        self.scope = scope
        self.partition = partition
        self.stream = stream
        """The writer's digest chain (:class:`streamsec.events.digests.DigestWriter`)."""
        self._base_run = run if run is not None else uuid.uuid4().hex[:16]
        self._max_seq = max_seq
        self._clock = clock if clock is not None else _utc_now
        self._segment = 0
        self._closed = False
        self._reset()

    def _reset(self) -> None:
        self._seq = 0
        self._prev = genesis(self.chain_id)
        self._pending: list[str] = []
        self._records: list[tuple[int, Records]] = []

    @property
    def key_id(self) -> str:
        return self._signer.key_id

    @property
    def chain_id(self) -> str:
        part = "-" if self.partition is None else str(self.partition)
        run = self._base_run if self._segment == 0 else f"{self._base_run}.{self._segment}"
        return f"{self.worker_id}/{self.scope}/{part}/{run}"

    @property
    def next_seq(self) -> int:
        return self._seq

    @property
    def last_digest(self) -> str:
        """Digest of the last event (the chain's genesis value before the first)."""
        return self._prev

    @property
    def unsigned(self) -> int:
        """Events since the last checkpoint (what a crash now would leave unsigned)."""
        return len(self._pending)

    @property
    def closed(self) -> bool:
        return self._closed

    def append(
        self, event: Mapping[str, Any], records: Records | None = None
    ) -> list[dict[str, Any]]:
        """Link ``event`` into the chain; returns it (after a segment's final checkpoint
        when the chain is about to outgrow 32-bit seqs). ``records``: a batch event's
        entries (offsets, digests), which the next checkpoint lists and signs."""
        if self._closed:
            raise RuntimeError("the audit chain is closed")
        out: list[dict[str, Any]] = []
        if self._seq + 2 > self._max_seq:  # keep room for the final checkpoint
            out.append(self._checkpoint(final=True))
            self._segment += 1
            self._reset()
        if records is not None:
            self._records.append((self._seq, records))
        out.append(self._link(event))
        return out

    def checkpoint(self) -> dict[str, Any] | None:
        """A signed checkpoint over the events since the last one (``None``: none)."""
        if self._closed:
            raise RuntimeError("the audit chain is closed")
        return self._checkpoint(final=False) if self._pending else None

    def close(self) -> dict[str, Any]:
        """The final signed checkpoint; the chain accepts no event after it."""
        if self._closed:
            raise RuntimeError("the audit chain is closed")
        event = self._checkpoint(final=True)
        self._closed = True
        return event

    def mark(self) -> ChainMark:
        """The current position, e.g. when a Kafka transaction begins."""
        return ChainMark(self._segment, self._seq, self._prev, tuple(self._pending),
                         self._closed, tuple(self._records))

    def rollback(self, mark: ChainMark) -> None:
        """Forget the events linked since ``mark``: they were never delivered (an aborted
        transaction). The next event reuses their seqs, so the chain stays unbroken."""
        self._segment = mark.segment
        self._seq = mark.seq
        self._prev = mark.prev
        self._pending = list(mark.pending)
        self._closed = mark.closed
        self._records = list(mark.records)

    def _checkpoint(self, *, final: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "worker": self.worker_id,
            "scope": self.scope,
            "partition": self.partition,
            "from_seq": self._seq - len(self._pending),
            "count": self._seq,
            "digests": list(self._pending),
            "final": final,
            "signer": self._signer.key_id,
            "stream": self.stream,
        }
        if self._records:  # each batch event's entries, so a verifier names a record
            data["records"] = [
                {"seq": seq, "offsets": list(offsets), "digests": list(digests)}
                for seq, (offsets, digests) in self._records
            ]
        event = new_event(
            EventType.AUDIT_CHECKPOINT,
            source=worker_source(self.worker_id),
            subject=self.chain_id,
            data=data,
            time=self._clock(),
        )
        sealed = self._link(event, sign=True)
        self._pending = []
        self._records = []
        return sealed

    def _link(self, event: Mapping[str, Any], *, sign: bool = False) -> dict[str, Any]:
        """``event`` numbered and linked (and with ``sign``, signed as :func:`sign_event`
        signs it: over the canonical form without ``sig``, ``data`` serialised once)."""
        clash = [name for name in CHAIN_ATTRIBUTES if name in event]
        if clash:
            raise ValueError(f"event already has chain attributes: {', '.join(clash)}")
        if not isinstance(event.get("data"), Mapping):
            raise ValueError("audit events carry a JSON object as data")
        sealed = dict(event)
        sealed["chain"] = self.chain_id
        sealed["seq"] = self._seq
        sealed["prev"] = self._prev
        if sign:
            digest, message = digest_and_message(sealed)
            sealed["digest"] = digest
            sealed["sig"] = base64.b64encode(self._signer.sign(message)).decode("ascii")
        else:
            sealed["digest"] = digest = compute_digest(sealed)
        self._prev = digest
        self._pending.append(digest[:PREFIX_LEN])
        self._seq += 1
        return sealed

    def __repr__(self) -> str:
        return f"AuditChain(chain={self.chain_id}, next_seq={self._seq}, key_id={self.key_id})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("key material cannot be pickled")


def _utc_now() -> datetime:
    return datetime.now(UTC)
