"""Integrity of the key store: a MAC over every entry, under a key only KEK holders have.

The MAC key is derived with HKDF-SHA256 from the keyring's index key, which is
stored wrapped by the KEK: whoever can write the key store but holds no KEK
cannot produce a valid MAC. So removing an erasure tombstone, bringing a
destroyed or retired key back as current, or editing any entry is refused.

A *rollback* to an older, validly authenticated copy is caught by the
``generation`` counter, which every change bumps: a process refuses a
generation lower than the highest it has seen, in memory and, across restarts,
in :class:`GenerationWatermark` (``STREAMSEC_HOME/keyring-generations.json``,
per keyring, on the host's own disk).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from streamsec.errors import KeyAccessError

if TYPE_CHECKING:
    from streamsec.crypto.keyfile import KeyringDocument

__all__ = [
    "ENTRY_MAC_LABEL",
    "GenerationWatermark",
    "document_mac",
    "entry_mac",
    "mac_key",
    "seal_document",
    "verify_document",
]

log = logging.getLogger(__name__)
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


ENTRY_MAC_LABEL = b"ssec-key-entry\x00"
"""What an entry's MAC covers: this label, then the entry's canonical JSON without
``mac`` (so a reader may check the very bytes it received, as the Kafka key
registry does)."""


def entry_mac(key: bytes, entry: dict[str, Any]) -> str:
    """Hex HMAC-SHA256 of one registry entry (the Kafka key store) without its ``mac``."""
    body = {k: v for k, v in entry.items() if k != "mac"}
    return hmac.digest(key, ENTRY_MAC_LABEL + _canonical(body), "sha256").hex()


def _body(document: KeyringDocument) -> dict[str, Any]:
    from streamsec.crypto.keyfile import _REVEAL

    dumped: dict[str, Any] = document.model_dump(
        mode="json", exclude={"mac"}, context={_REVEAL: True}
    )
    return dumped


def seal_document(document: KeyringDocument, key: bytes) -> KeyringDocument:
    """The next generation of ``document``, with its MAC."""
    bumped = document.model_copy(update={"generation": document.generation + 1, "mac": None})
    return bumped.model_copy(update={"mac": document_mac(key, _body(bumped))})


def verify_document(
    document: KeyringDocument, key: bytes, seen_generation: int, *, file: object = None
) -> None:
    """The MAC must check and the generation must not go back; else KeyAccessError."""
    where = str(file) if file is not None else None
    if document.mac is None or not hmac.compare_digest(
        document.mac, document_mac(key, _body(document))
    ):
        raise KeyAccessError(
            "key store failed its integrity check (edited, entries removed, or not "
            "written by a holder of the key-encryption key)",
            file=where,
        )
    if document.generation < seen_generation:
        raise KeyAccessError(
            f"key store was rolled back (generation {document.generation} after "
            f"{seen_generation}): refusing an older copy",
            file=where,
        )


class GenerationWatermark:
    """The highest generation this host has seen of each keyring (by its KEK record id),
    so a restored older copy is refused after a restart too. A file of its own, apart
    from the keyring: restoring a backup of the keyring does not restore it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: dict[str, int] | None = None

    def __repr__(self) -> str:
        return f"GenerationWatermark({str(self.path)!r})"

    def seen(self, keyring_id: str) -> int:
        if self._seen is None:
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = {}
            self._seen = {str(k): int(v) for k, v in loaded.items()} if isinstance(
                loaded, dict) else {}  # fmt: skip
        return self._seen.get(keyring_id, -1)

    def record(self, keyring_id: str, generation: int) -> None:
        if generation <= self.seen(keyring_id):
            return
        assert self._seen is not None
        self._seen[keyring_id] = generation
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp.write_text(json.dumps(self._seen), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:  # the in-memory check still holds in this process
            log.warning("cannot record the keyring generation in %s: %s", self.path,
                        exc.strerror)  # fmt: skip
