"""One audit event per batch and source partition: ``io.streamsec.records.batch``.

With ``STREAMSEC_AUDIT_GRANULARITY=batch`` (the default) the worker lists every
record of a batch it read from one partition - protected or dead-lettered - in one
chained event instead of one event each. Each entry holds exactly what the
per-record events hold (:func:`~streamsec.events.audit.protected_entry`,
:func:`~streamsec.events.audit.dead_letter_entry`): offset, key pseudonym, per-field
actions, entity types and key ids, or the dead letter's reason code; never a value.

Tamper evidence stays per record: each entry has a digest (SHA-256 under a domain
tag of its RFC 8785 form, :func:`entry_digest`), and the partition's next signed
checkpoint lists, for every batch event it covers, each entry's offset and digest
(its ``records`` member, :class:`~streamsec.events.chain.AuditChain`). So a verifier
names the record whose entry was changed, removed, added or moved inside a batch
event (:mod:`streamsec.events.verify_chain`).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from streamsec.events.audit import RecordRef
from streamsec.events.canonical import CanonicalizationError, Precanonical, canonical_json
from streamsec.events.cloudevents import EventType, new_event, worker_source
from streamsec.events.entry_bytes import protected_entry_bytes
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = [
    "BATCH_TYPE",
    "ENTRY_PREFIX",
    "BatchEntries",
    "entry_digest",
    "read_records",
    "records_batch",
    "signed_records",
    "unpack",
]

BATCH_TYPE: Final = str(EventType.RECORDS_BATCH)
ENTRY_PREFIX: Final = 16
"""Hex digits of each entry digest a checkpoint lists."""
_DOMAIN: Final = b"streamsec.audit.record.v1\x00"
_PACK: Final = struct.Struct(">q8s")
_UNREADABLE: Final = b"\x00" * 8


def entry_digest(entry: Mapping[str, Any]) -> str:
    """The listed digest of one record's entry (raises CanonicalizationError)."""
    return _digest_of(canonical_json(entry))


def _digest_of(raw: bytes) -> str:
    return hashlib.sha256(_DOMAIN + raw).hexdigest()[:ENTRY_PREFIX]


class BatchEntries:
    """The entries of one batch from one source partition, in read order."""

    __slots__ = ("digests", "entries", "offsets", "partition", "raw", "topic")

    def __init__(self, topic: str, partition: int) -> None:
        self.topic = topic
        self.partition = partition
        self.entries: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.offsets: list[int] = []
        self.digests: list[str] = []

    def add(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` (raises CanonicalizationError, and keeps nothing, when it
        cannot be put in canonical form). Its canonical bytes are kept: the batch
        event's digest and wire bytes splice them in (:class:`Precanonical`)."""
        self._keep(entry, canonical_json(entry))

    def add_protected(self, record: RecordRef, actions: Sequence[FieldAction]) -> None:
        """:meth:`add` of ``protected_entry(record, actions)``, its canonical bytes
        spliced from memoised parts (:mod:`streamsec.events.entry_bytes`)."""
        self._keep(*protected_entry_bytes(record, actions))

    def _keep(self, entry: dict[str, Any], raw: bytes) -> None:
        offset = int(entry["offset"])
        self.entries.append(entry)
        self.raw.append(raw)
        self.offsets.append(offset)
        self.digests.append(_digest_of(raw))

    def __len__(self) -> int:
        return len(self.entries)

    def event(self, topology: Topology, *, worker_id: str) -> dict[str, Any]:
        entries = Precanonical(self.entries, self.raw)
        return records_batch(topology, self.topic, self.partition, entries, worker_id=worker_id)

    def records(self) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """(offsets, entry digests) for the partition's next checkpoint."""
        return tuple(self.offsets), tuple(self.digests)


def records_batch(
    topology: Topology,
    topic: str,
    partition: int,
    entries: Sequence[Mapping[str, Any]],
    *,
    worker_id: str,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """``io.streamsec.records.batch``: every record of one batch and source partition."""
    if not entries:
        raise ValueError("a batch event lists at least one record")
    first, last = entries[0]["offset"], entries[-1]["offset"]
    data = {
        "worker": worker_id,
        "source": {"topic": topic, "partition": partition},
        "topology": {"name": topology.name, "version": topology.version},
        "policy": {"default_action": topology.policy.default_action},
        "output": topology.output,
        "dead_letter": topology.dead_letter_topic,
        "records": entries if isinstance(entries, Precanonical) else [dict(e) for e in entries],
    }
    return new_event(
        EventType.RECORDS_BATCH, source=worker_source(worker_id),
        subject=f"{topic}/{partition}/{first}-{last}", data=data, time=time, event_id=event_id,
    )


# -- verification side: compact (offset, digest) lists -------------------------------


def _offset(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    return -1


def read_records(data: Any) -> bytes | None:
    """(offset, digest) of each entry a batch event's ``data`` holds, packed (8 + 8
    bytes each); ``None`` when it holds no list. Never raises on hostile input."""
    records = data.get("records") if isinstance(data, Mapping) else None
    if not isinstance(records, list):
        return None
    out = bytearray()
    for entry in records:
        offset = _offset(entry.get("offset")) if isinstance(entry, Mapping) else -1
        try:
            digest = bytes.fromhex(entry_digest(entry)) if isinstance(entry, Mapping) \
                else _UNREADABLE
        except (CanonicalizationError, RecursionError):
            digest = _UNREADABLE
        out += _PACK.pack(offset, digest)
    return bytes(out)


def signed_records(data: Any) -> dict[int, bytes]:
    """seq -> packed (offset, digest) list from a checkpoint's ``records`` member
    (signed, so malformed only if its writer made it so: such items are skipped)."""
    out: dict[int, bytes] = {}
    items = data.get("records") if isinstance(data, Mapping) else None
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping):
            continue
        seq, offsets, digests = item.get("seq"), item.get("offsets"), item.get("digests")
        if not (isinstance(seq, int) and isinstance(offsets, list)
                and isinstance(digests, list) and len(offsets) == len(digests)):
            continue
        packed = bytearray()
        try:
            for offset, digest in zip(offsets, digests, strict=True):
                packed += _PACK.pack(_offset(offset), bytes.fromhex(digest)[:8].ljust(8, b"\0"))
        except (TypeError, ValueError):
            continue
        out[seq] = bytes(packed)
    return out


def unpack(packed: bytes) -> list[tuple[int, bytes]]:
    return [_PACK.unpack_from(packed, i) for i in range(0, len(packed), _PACK.size)]
