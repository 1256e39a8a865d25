"""Integrity of the key store: a MAC over every entry, under a key only KEK holders have.

The MAC key is derived with HKDF-SHA256 from the keyring's index key, which is
stored wrapped by the KEK: whoever can write the key store but holds no KEK
cannot produce a valid MAC. So removing an erasure tombstone, bringing a
destroyed or retired key back as current, or editing any entry is refused.

A *rollback* to an older, validly authenticated copy is caught by the
``generation`` counter, which every change bumps: a process refuses a
generation lower than the highest it has seen (in memory, and in the optional
watermark file ``STREAMSEC_HOME/keyring.generation``).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["document_mac", "entry_mac", "mac_key"]

_INFO = b"streamsec key-store mac v1"


def mac_key(index_key: bytes) -> bytes:
    """HKDF-SHA256(index key, info="streamsec key-store mac v1"), 32 bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(index_key)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def document_mac(key: bytes, document: dict[str, Any]) -> str:
    """Hex HMAC-SHA256 over the canonical JSON of ``document`` without its ``mac``."""
    body = {k: v for k, v in document.items() if k != "mac"}
    return hmac.new(key, b"ssec-keyring\x00" + _canonical(body), "sha256").hexdigest()


def entry_mac(key: bytes, entry: dict[str, Any]) -> str:
    """Hex HMAC-SHA256 of one registry entry (the Kafka key store) without its ``mac``."""
    body = {k: v for k, v in entry.items() if k != "mac"}
    return hmac.new(key, b"ssec-key-entry\x00" + _canonical(body), "sha256").hexdigest()
