"""Reading audit events for verification: what each one claims, and what checks out.

An :class:`Entry` is one input event with its claimed chain attributes and two
facts a verifier computes: does the stored ``digest`` match the body
(``digest_ok``), and does the ``mac`` verify under the audit key named by
``data.audit_key_id`` (``authentic``; implies ``digest_ok``). Nothing here trusts
a claimed attribute; malformed events become entries with ``None`` claims.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from streamsec.events.canonical import CanonicalizationError, compute_digest, mac_matches

__all__ = ["Entry", "KeyLookup", "as_key_lookup", "read_entry"]

KeyLookup = Callable[[str], bytes | None]
"""Audit key id -> key material, or ``None`` when the id is unknown."""


def as_key_lookup(keys: Mapping[str, bytes] | KeyLookup) -> KeyLookup:
    if isinstance(keys, Mapping):
        table = dict(keys)
        return table.get
    return keys


@dataclass(frozen=True, slots=True)
class Entry:
    position: int
    """Index of the event in the input, in read order."""
    chain: str | None
    seq: int | None
    prev: str | None
    digest: str | None
    """The stored ``digest`` attribute (what the writer committed to)."""
    digest_ok: bool
    authentic: bool
    key_known: bool
    is_checkpoint: bool
    final: bool
    """A final checkpoint (``data.final`` is true)."""
    count: Any = None
    last_digest: Any = None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _seq(value: Any) -> int | None:
    """A non-negative integer; ``5.0`` counts (RFC 8785 spells it ``5`` too)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def read_entry(position: int, event: Any, keys: KeyLookup) -> Entry:
    """Parse and check one event; never raises on hostile input."""
    if not isinstance(event, Mapping):
        return Entry(position, None, None, None, None, False, False, False, False, False)
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    digest = _str(event.get("digest"))
    try:
        digest_ok = digest is not None and compute_digest(event) == digest
    except CanonicalizationError:
        digest_ok = False
    key_id = _str(data.get("audit_key_id"))
    key = keys(key_id) if key_id is not None else None
    authentic = digest_ok and key is not None and mac_matches(key, event)
    is_checkpoint = event.get("type") == "io.streamsec.audit.checkpoint"
    return Entry(
        position=position,
        chain=_str(event.get("chain")),
        seq=_seq(event.get("seq")),
        prev=_str(event.get("prev")),
        digest=digest,
        digest_ok=digest_ok,
        authentic=authentic,
        key_known=key is not None,
        is_checkpoint=is_checkpoint,
        final=is_checkpoint and data.get("final") is True,
        count=data.get("count"),
        last_digest=data.get("last_digest"),
    )
