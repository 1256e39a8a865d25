"""Reading audit events for verification: what each one claims, and what checks out.

An :class:`Entry` is one chained event (a record event or a checkpoint) with its
claimed chain attributes and what a verifier computed: does the stored ``digest``
match the body (``digest_ok``), and, for a checkpoint, does its ``sig`` verify
under a certified key (``sig``). A :class:`Signed` is a digest or handover record.
Nothing here trusts a claimed attribute; malformed events yield ``None`` claims.

Ordinary events are checked on their bytes (as
:func:`streamsec.events.canonical.raw_digest_ok` does) without parsing the JSON:
writers send canonical JSON, whose top-level members around ``digest`` are fixed.
Anything else takes the slow path (parse, RFC 8785).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Final, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from streamsec.events.batch import BATCH_TYPE, read_records, signed_records
from streamsec.events.canonical import (
    CanonicalizationError,
    compute_digest,
    signed_message,
)
from streamsec.events.cloudevents import EventType
from streamsec.events.signing import signature_ok

__all__ = ["Entry", "KeyLookup", "Signed", "fill_records", "read_entry", "read_raw"]

_CHECKPOINT: Final = str(EventType.AUDIT_CHECKPOINT)
_SIGNED_TYPES: Final = frozenset({str(EventType.AUDIT_DIGEST), str(EventType.AUDIT_ABANDONED)})
_HEAD = re.compile(rb'\{"chain":"([^"\\]{1,500})","data":\{')
_BATCH_END: Final = b',"type":"' + BATCH_TYPE.encode() + b'"}'
_TAIL = re.compile(
    rb',"digest":"([0-9a-f]{64})","id":"[^"\\]*","prev":"([0-9a-f]{64})",'
    rb'"seq":(0|[1-9][0-9]{0,9}),"source":"[^"\\]*"'
)


class KeyLookup(Protocol):
    def key(self, key_id: str, writer: str | None = None) -> Ed25519PublicKey | None: ...


@dataclass(slots=True)
class Entry:
    position: int
    """Index of the event in the input, in read order."""
    chain: str | None
    seq: int | None
    prev: str | None
    digest: str | None
    """The stored ``digest`` attribute (what the writer committed to)."""
    digest_ok: bool
    checkpoint: bool = False
    sig: str | None = None
    """Checkpoints: ``"ok"``, or why the signature does not count."""
    signer: str | None = None
    worker: str | None = None
    final: bool = False
    from_seq: int | None = None
    count: Any = None
    digests: tuple[str, ...] = ()
    stream: str | None = None
    """The writer's digest chain (checkpoints)."""
    records: bytes | None = None
    """Batch events: (offset, entry digest) of each entry read (``batch.read_records``)."""
    source: str | None = None
    """Batch events: the ``topic/partition`` they claim to list (to name a record)."""
    signed_records: dict[int, bytes] | None = None
    """Checkpoints: seq -> (offset, entry digest) of each batch event it covers."""
    raw: bytes | None = None
    """A batch event read on the fast path: its bytes, until :func:`fill_records` (or
    its signed checkpoint shows it intact, and nothing need be named in it)."""


@dataclass(frozen=True, slots=True)
class Signed:
    """A digest or handover record (not part of a chain)."""

    position: int
    kind: str
    digest: str | None
    sig: str
    """``"ok"``, or why the signature does not count."""
    worker: str | None
    signer: str | None
    data: Mapping[str, Any]
    subject: str | None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _seq(value: Any) -> int | None:
    """A non-negative integer; ``5.0`` counts (RFC 8785 spells it ``5`` too)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def read_raw(position: int, raw: bytes, keys: KeyLookup) -> Entry | Signed | None:
    """One event as read (bytes); ``None`` when it is not a JSON object."""
    head = _HEAD.match(raw)
    if head is not None:  # a chained event; a checkpoint has "sig" before "source": no match
        at = raw.rfind(b',"digest":"')
        tail = _TAIL.match(raw, at) if at > 0 else None
        if tail is not None:
            digest = tail.group(1).decode("ascii")
            if sha256(raw[:at] + raw[at + 76 :]).hexdigest() == digest:
                return Entry(
                    position, head.group(1).decode("utf-8"), int(tail.group(3)),
                    tail.group(2).decode("ascii"), digest, True,
                    raw=raw if raw.endswith(_BATCH_END) else None,
                )
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return read_entry(position, event, keys) if isinstance(event, Mapping) else None


def _sig_status(event: Mapping[str, Any], digest_ok: bool, keys: KeyLookup) -> str:
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    key_id, worker = _str(data.get("signer")), _str(data.get("worker"))
    if key_id is None or worker is None:
        return "unsigned"
    public = keys.key(key_id)
    if public is None:
        return f"signer {key_id} is not in the trust store"
    if keys.key(key_id, worker) is None:
        return f"signer {key_id} is not certified for writer {worker}"
    try:
        message = signed_message(event)
    except CanonicalizationError:
        return "cannot be canonicalized"
    if not signature_ok(public, event.get("sig"), message):
        return "signature does not verify"
    return "ok" if digest_ok else "digest does not match its content"


def read_entry(position: int, event: Mapping[str, Any], keys: KeyLookup) -> Entry | Signed:
    """Parse and check one event (a JSON object); never raises on hostile input."""
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    digest = _str(event.get("digest"))
    try:
        digest_ok = digest is not None and compute_digest(event) == digest
    except CanonicalizationError:
        digest_ok = False
    kind = event.get("type")
    if kind in _SIGNED_TYPES and "chain" not in event:
        return Signed(
            position, str(kind), digest, _sig_status(event, digest_ok, keys),
            _str(data.get("worker")), _str(data.get("signer")), data, _str(event.get("subject")),
        )
    chain, seq = _str(event.get("chain")), _seq(event.get("seq"))
    if kind == BATCH_TYPE:
        return _batch_entry(position, event, chain, seq, digest, digest_ok)
    if kind != _CHECKPOINT:
        return Entry(position, chain, seq, _str(event.get("prev")), digest, digest_ok)
    digests = data.get("digests")
    listed = tuple(d for d in digests if isinstance(d, str)) if isinstance(digests, list) else ()
    worker = _str(data.get("worker"))
    sig = _sig_status(event, digest_ok, keys)
    if sig == "ok" and (chain is None or worker is None or not chain.startswith(worker + "/")):
        sig = "the chain does not belong to its signer's writer"
    return Entry(
        position, chain, seq, _str(event.get("prev")), digest, digest_ok,
        checkpoint=True, sig=sig, signer=_str(data.get("signer")), worker=worker,
        final=data.get("final") is True, from_seq=_seq(data.get("from_seq")),
        count=data.get("count"), digests=listed, stream=_str(data.get("stream")),
        signed_records=signed_records(data) if "records" in data else None,
    )


def fill_records(e: Entry) -> None:
    """The entries of a batch event read on the fast path (parsed only when needed)."""
    raw, e.raw = e.raw, None
    if raw is None:
        return
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return
    if isinstance(event, Mapping):
        filled = _batch_entry(e.position, event, e.chain, e.seq, e.digest, e.digest_ok)
        e.records, e.source = filled.records, filled.source


def _batch_entry(
    position: int, event: Mapping[str, Any], chain: str | None, seq: int | None,
    digest: str | None, digest_ok: bool,
) -> Entry:
    """A batch event: its entries' offsets and digests, as read (to compare with what
    the writer's checkpoint signed), and the partition it claims to list."""
    data = event.get("data")
    source = data.get("source") if isinstance(data, Mapping) else None
    where = None
    if isinstance(source, Mapping):
        topic, partition = _str(source.get("topic")), source.get("partition")
        if topic is not None and isinstance(partition, int):
            where = f"{topic}/{partition}"
    return Entry(position, chain, seq, _str(event.get("prev")), digest, digest_ok,
                 records=read_records(data), source=where)
