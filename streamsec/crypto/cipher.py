"""The :class:`~streamsec.crypto.base.FieldCipher` over a :class:`KeyProvider`.

* ``encrypt``: AES-256-GCM with a random 96-bit nonce under the topology's current
  ``encrypt`` key, or AES-SIV (deterministic) under its ``deterministic`` key. The
  associated data binds the envelope header, the topology and the field path
  (:func:`~streamsec.crypto.aad.ciphertext_aad`), so a ciphertext copied to another
  field or topology fails to decrypt.
* ``pseudonymize``: ``hmac:<key id>:<base64url of the first 16 bytes of
  HMAC-SHA256(hash key, data)>``. The path is *not* mixed in, so equal values in
  different fields of one topology get equal pseudonyms (joins work); a rotation of
  the hash key changes every pseudonym.

:func:`seal`, :func:`unseal` and :func:`pseudonym` are the pure primitives (also
used to check the test vectors in ``docs/envelope.md``).
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Collection
from typing import Final, NoReturn

from cryptography.exceptions import InvalidTag

from streamsec.crypto.aad import ciphertext_aad
from streamsec.crypto.envelope import (
    KEY_ID_PATTERN,
    VERSION,
    Alg,
    Envelope,
    b64url_encode,
    format_envelope,
    parse_envelope,
)
from streamsec.crypto.keys import DataKey, KeyPurpose
from streamsec.crypto.provider import KeyProvider
from streamsec.errors import DecryptionError, EncryptionError, StreamsecError

__all__ = ["PSEUDONYM_RE", "KeyringCipher", "kek_name", "pseudonym", "seal", "unseal"]

PSEUDONYM_RE: Final = re.compile(rf"hmac:(?P<key_id>{KEY_ID_PATTERN}):(?P<mac>[A-Za-z0-9_-]{{22}})")
_ALG_PURPOSE: Final = {"gcm": KeyPurpose.ENCRYPT, "siv": KeyPurpose.DETERMINISTIC}
_PURPOSE: Final = {False: KeyPurpose.ENCRYPT, True: KeyPurpose.DETERMINISTIC}


def seal(
    key: DataKey, plaintext: bytes, *, topology: str, path: str, nonce: bytes | None = None
) -> str:
    """Encrypt under ``key`` (GCM for an ``encrypt`` key, SIV for a ``deterministic`` one)."""
    alg: Alg = "siv" if key.purpose is KeyPurpose.DETERMINISTIC else "gcm"
    aad = ciphertext_aad(version=VERSION, key_id=key.id, alg=alg, topology=topology, path=path)
    if alg == "siv":
        payload = key.siv().encrypt(plaintext, [aad])
    else:
        nonce = os.urandom(12) if nonce is None else nonce
        if len(nonce) != 12:
            raise ValueError("a GCM nonce is 12 bytes")
        payload = nonce + key.gcm().encrypt(nonce, plaintext, aad)
    return format_envelope(Envelope(key.id, alg, payload))


def unseal(key: DataKey, envelope: Envelope, *, topology: str, path: str) -> bytes:
    """Decrypt; raises ``cryptography.exceptions.InvalidTag`` when authentication fails."""
    aad = ciphertext_aad(
        version=envelope.version, key_id=envelope.key_id, alg=envelope.alg,
        topology=topology, path=path,
    )  # fmt: skip
    if envelope.alg == "siv":
        return key.siv().decrypt(envelope.payload, [aad])
    return key.gcm().decrypt(envelope.payload[:12], envelope.payload[12:], aad)


def kek_name(category: str | None) -> str:
    """The KEK of a category under key separation: ``pii``, ``pci``...; a field with no
    category gets ``unclassified``, a KEK no category role is given."""
    return category.lower() if category else "unclassified"


def pseudonym(key: DataKey, data: bytes) -> str:
    mac = hmac.new(key.material, data, "sha256").digest()[:16]
    return f"hmac:{key.id}:{b64url_encode(mac)}"


def _reraise(exc: StreamsecError, path: str) -> NoReturn:
    """Re-raise a provider error with the field path attached."""
    raise type(exc)(exc.message, **{**exc.context, "path": path}) from None


class KeyringCipher:
    """A field cipher for one topology; keys come from a :class:`KeyProvider`."""

    def __init__(
        self, provider: KeyProvider, topology: str, *, separate_by_category: bool = False
    ) -> None:
        self.provider = provider
        self.topology = topology
        self.separate_by_category = separate_by_category

    def __repr__(self) -> str:
        return f"KeyringCipher(topology={self.topology!r}, provider={self.provider!r})"

    def encrypt(
        self,
        plaintext: bytes,
        *,
        path: str,
        deterministic: bool = False,
        subject: str | None = None,
        category: str | None = None,
    ) -> str:
        purpose = _PURPOSE[deterministic]
        kek = kek_name(category) if self.separate_by_category else "default"
        try:
            key = self.provider.current_key(self.topology, purpose, subject, kek=kek)
        except StreamsecError as exc:
            _reraise(exc, path)
        try:
            return seal(key, plaintext, topology=self.topology, path=path)
        except (ValueError, TypeError, OverflowError, MemoryError):
            raise EncryptionError("encryption failed", path=path, key_id=key.id) from None

    def prepare_keys(self, needs: Collection[tuple[str, bool]]) -> None:
        if self.separate_by_category:
            return  # the KEK depends on each field's category: created field by field
        slots = [(_PURPOSE[deterministic], subject) for subject, deterministic in needs]
        self.provider.ensure_keys(self.topology, slots)

    def decrypt(self, token: str, *, path: str) -> bytes:
        try:
            envelope = parse_envelope(token)
            key = self.provider.key_by_id(envelope.key_id)
        except StreamsecError as exc:
            _reraise(exc, path)
        if key.info.owner != self.topology:
            raise DecryptionError(
                "ciphertext belongs to another topology", path=path, key_id=key.id
            )
        if key.purpose is not _ALG_PURPOSE[envelope.alg]:
            raise DecryptionError(
                "envelope algorithm does not match its key", path=path, key_id=key.id
            )
        try:
            return unseal(key, envelope, topology=self.topology, path=path)
        except InvalidTag:
            raise DecryptionError(
                "ciphertext failed authentication: tampered, moved to another field, "
                "or not encrypted under this key",
                path=path,
                key_id=key.id,
            ) from None

    def pseudonymize(self, data: bytes, *, path: str) -> tuple[str, str]:
        try:
            key = self.provider.current_key(self.topology, KeyPurpose.HASH)
        except StreamsecError as exc:
            _reraise(exc, path)
        return pseudonym(key, data), key.id

    def key_id_of(self, token: str) -> str:
        return parse_envelope(token).key_id
