"""The cipher contract the protection actions depend on.

A :class:`FieldCipher` is bound to one topology. It builds the associated data
from the topology name, the field path and the record :class:`Binding` (data
subject, record, list position), so a ciphertext moved to another field, topology,
record, subject or list position fails to decrypt. Implementations live in this
package; the core sees only this protocol.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from streamsec.crypto.aad import Binding
from streamsec.crypto.plaintext import DEFAULT_PAD

__all__ = ["Binding", "FieldCipher"]


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
        binding: Binding | None = None,
        pad_to: int = DEFAULT_PAD,
        entity: str | None = None,
    ) -> str:
        """Encrypt (padded to ``pad_to`` bytes) under the current data key of ``subject``
        (or the shared one) and return an envelope string. ``category`` (PII, PCI...),
        ``entity`` and ``path`` select the KEK under key separation. Raises
        :class:`~streamsec.errors.SubjectForgottenError` for a forgotten subject."""
        ...

    def check_subject(self, subject: str) -> None:
        """Raise :class:`~streamsec.errors.SubjectForgottenError` when ``subject``'s keys
        were destroyed (whether or not the record has a value to encrypt)."""
        ...

    def prepare_keys(self, needs: Collection[tuple[str, bool]]) -> None:
        """Best effort, before a batch: make sure the per-subject keys of these
        ``(subject, deterministic)`` pairs exist, creating the missing ones in one go.
        Raises like :meth:`encrypt`; callers may ignore that (``encrypt`` fails closed)."""
        ...

    def decrypt(self, token: str, *, path: str, binding: Binding | None = None) -> bytes:
        """Decrypt an envelope (v1 or v2); raises DecryptionError (or a subclass) with
        path and key_id. ``binding`` must be the one the value was encrypted with."""
        ...

    def pseudonymize(self, data: bytes, *, path: str) -> tuple[str, str]:
        """Keyed HMAC-SHA256 pseudonym: returns ``(token, key_id)``; stable for a key."""
        ...

    def key_id_of(self, token: str) -> str:
        """The key id named by an envelope (raises EnvelopeFormatError)."""
        ...
