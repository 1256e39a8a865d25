"""The :class:`KeyProvider` protocol: where the cipher gets its data keys.

The cipher depends on this protocol only, so a KMS-backed provider can replace
the local keyring (:class:`streamsec.crypto.keyring.Keyring`) without touching
the cipher, the actions or the envelope format.

Contract
--------
* Keys are addressed by ``(owner, purpose)``, or ``(owner, purpose, subject)`` for
  per-subject keys. ``owner`` is the topology name. A provider stores a keyed hash
  of the subject id, never the id.
* Each triple has versions ``1, 2, ...``; the newest is *current*. A rotation adds
  a version and retires the previous one, which still decrypts.
* :meth:`current_key` creates version 1 on first use and must be safe when several
  processes ask at once (exactly one key is created).
* A destroyed key raises :class:`~streamsec.errors.KeyDestroyedError` on every later
  use, including :meth:`current_key` when the newest version is destroyed: a
  crypto-shredded subject stays forgotten until someone explicitly rotates.
* An unknown key id raises :class:`~streamsec.errors.KeyNotFoundError`; any other
  failure to read, create or unwrap raises :class:`~streamsec.errors.KeyAccessError`.
  Messages and attributes never carry material or subject ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from streamsec.crypto.keys import DataKey, KeyInfo, KeyPurpose

__all__ = ["KeyProvider"]


class KeyProvider(Protocol):
    def current_key(
        self, owner: str, purpose: KeyPurpose, subject: str | None = None, *,
        kek: str = "default",
    ) -> DataKey:
        """The current version for ``(owner, purpose[, subject])`` wrapped by the KEK named
        ``kek`` (a category under key separation), created if missing."""
        ...

    def ensure_keys(
        self, owner: str, slots: Iterable[tuple[KeyPurpose, str | None]], *,
        kek: str = "default",
    ) -> None:
        """Make sure each ``(purpose, subject)`` of ``owner`` has a current version,
        creating the missing ones in one change (a batch's new subjects at once)."""
        ...

    def key_by_id(self, key_id: str) -> DataKey:
        """Any active or retired version, by id (to decrypt)."""
        ...

    def rotate(
        self, owner: str, purpose: KeyPurpose, subject: str | None = None, *,
        kek: str = "default",
    ) -> KeyInfo:
        """Add a new current version; the previous one is retired but still decrypts."""
        ...

    def destroy(self, key_id: str) -> KeyInfo:
        """Erase one version's material for good (idempotent)."""
        ...

    def destroy_subject(self, owner: str, subject: str) -> list[KeyInfo]:
        """Crypto-shred every key of one data subject of ``owner``."""
        ...

    def list_keys(self, owner: str | None = None) -> list[KeyInfo]:
        """Metadata of every key version (never material)."""
        ...
