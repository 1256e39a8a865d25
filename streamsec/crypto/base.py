"""The cipher contract the protection actions depend on.

A :class:`FieldCipher` is bound to one topology. It builds the associated data
from the topology name and the field path, so a ciphertext moved to another field
or topology fails to decrypt. Implementations live in this package; the core sees
only this protocol.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

__all__ = ["FieldCipher"]


class FieldCipher(Protocol):
    topology: str

    def encrypt(
        self,
        plaintext: bytes,
        *,
        path: str,
        deterministic: bool = False,
        subject: str | None = None,
        category: str | None = None,
    ) -> str:
        """Encrypt under the current data key and return an envelope string. ``category``
        (PII, PCI...) selects the KEK under key separation."""
        ...

    def prepare_keys(self, needs: Collection[tuple[str, bool]]) -> None:
        """Best effort, before a batch: make sure the per-subject keys of these
        ``(subject, deterministic)`` pairs exist, creating the missing ones in one go.
        Raises like :meth:`encrypt`; callers may ignore that (``encrypt`` fails closed)."""
        ...

    def decrypt(self, token: str, *, path: str) -> bytes:
        """Decrypt an envelope; raises DecryptionError (or a subclass) with path and key_id."""
        ...

    def pseudonymize(self, data: bytes, *, path: str) -> tuple[str, str]:
        """Keyed HMAC-SHA256 pseudonym: returns ``(token, key_id)``; stable for a key."""
        ...

    def key_id_of(self, token: str) -> str:
        """The key id named by an envelope (raises EnvelopeFormatError)."""
        ...
