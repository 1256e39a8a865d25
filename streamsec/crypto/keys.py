"""Key metadata and the in-memory holders of key material.

:class:`KeyInfo` is metadata only and safe to log or print. :class:`DataKey` and
:class:`Kek` hold material: their ``repr``/``str`` name the key but never show it,
and they refuse to be pickled, so material cannot leak through logs, error
reports or multiprocessing queues by accident.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

__all__ = [
    "KEK_SIZE",
    "KEY_SIZES",
    "DataKey",
    "Kek",
    "KeyInfo",
    "KeyPurpose",
    "KeyState",
    "decode_kek",
    "new_key_id",
    "utc_now",
]

_BASE32: Final = "abcdefghijklmnopqrstuvwxyz234567"


class KeyPurpose(StrEnum):
    ENCRYPT = "encrypt"
    """AES-256-GCM, randomized (envelope alg ``gcm``)."""
    DETERMINISTIC = "deterministic"
    """AES-SIV with a 512-bit key (envelope alg ``siv``)."""
    HASH = "hash"
    """HMAC-SHA256 pseudonyms."""
    AUDIT = "audit"
    """HMAC-SHA256 for audit-event integrity."""


class KeyState(StrEnum):
    ACTIVE = "active"
    """The current version: used to encrypt and to decrypt."""
    RETIRED = "retired"
    """Superseded by a rotation: decrypts, never encrypts."""
    DESTROYED = "destroyed"
    """Material erased (crypto-shredded): every use raises ``KeyDestroyedError``."""


KEY_SIZES: Final[dict[KeyPurpose, int]] = {
    KeyPurpose.ENCRYPT: 32,
    KeyPurpose.DETERMINISTIC: 64,
    KeyPurpose.HASH: 32,
    KeyPurpose.AUDIT: 32,
}
KEK_SIZE: Final = 32


def utc_now() -> datetime:
    """Now, in UTC, to the second (key creation and destruction times)."""
    return datetime.now(UTC).replace(microsecond=0)


def new_key_id() -> str:
    """A fresh opaque key id: ``k`` + 10 random base32 characters (50 bits).

    Random, never derived from key material, the owner or the purpose.
    """
    return "k" + "".join(secrets.choice(_BASE32) for _ in range(10))


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """Metadata of one data-key version. Never holds material."""

    id: str
    purpose: KeyPurpose
    owner: str
    version: int
    state: KeyState
    created: datetime
    subject: str | None = None
    """Keyed hash of the data-subject id (per-subject keys), never the id itself."""
    destroyed: datetime | None = None
    kek: str = "default"
    """The KEK name that wraps it: ``default``, or a category under separation (``all``
    under role separation: then ``readers`` names the roles whose KEKs also wrap it)."""
    readers: tuple[str, ...] | None = None
    """``key_separation: role``: the roles that may read it (metadata, authenticated by
    the key store's MAC; the provider enforces it when the key is released)."""


class DataKey:
    """One unwrapped data key. ``material`` is the raw key; never log it."""

    __slots__ = ("_aead", "_material", "info")

    def __init__(self, info: KeyInfo, material: bytes) -> None:
        if len(material) != KEY_SIZES[info.purpose]:
            raise ValueError(f"a {info.purpose} key must be {KEY_SIZES[info.purpose]} bytes")
        self.info = info
        self._material = bytes(material)
        self._aead: AESGCM | AESSIV | None = None

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def purpose(self) -> KeyPurpose:
        return self.info.purpose

    @property
    def material(self) -> bytes:
        return self._material

    def gcm(self) -> AESGCM:
        if self.info.purpose is not KeyPurpose.ENCRYPT:
            raise ValueError("not an encryption key")
        if not isinstance(self._aead, AESGCM):
            self._aead = AESGCM(self._material)
        return self._aead

    def siv(self) -> AESSIV:
        if self.info.purpose is not KeyPurpose.DETERMINISTIC:
            raise ValueError("not a deterministic-encryption key")
        if not isinstance(self._aead, AESSIV):
            self._aead = AESSIV(self._material)
        return self._aead

    def __repr__(self) -> str:
        i = self.info
        return (
            f"DataKey(id={i.id}, purpose={i.purpose}, owner={i.owner}, "
            f"version={i.version}, state={i.state})"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("key material cannot be pickled")


class Kek:
    """The key-encryption key: wraps data keys with AES-256-GCM (random 96-bit nonce).

    Wrapped form: ``nonce (12) || ciphertext || tag (16)``, with the entry's
    metadata as associated data (:func:`streamsec.crypto.aad.wrapped_key_aad`).
    """

    __slots__ = ("_aead", "id")

    def __init__(self, material: bytes, *, kek_id: str) -> None:
        if len(material) != KEK_SIZE:
            raise ValueError(f"the key-encryption key must be {KEK_SIZE} bytes")
        self.id = kek_id
        self._aead = AESGCM(bytes(material))

    def wrap(self, material: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, material, aad)

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes | None:
        """The unwrapped key, or ``None`` when authentication fails (wrong KEK, tampering)."""
        if len(wrapped) < 12 + 16:
            return None
        try:
            return self._aead.decrypt(wrapped[:12], wrapped[12:], aad)
        except InvalidTag:
            return None

    def __repr__(self) -> str:
        return f"Kek(id={self.id})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("key material cannot be pickled")


def decode_kek(text: str) -> bytes:
    """Decode a base64 (standard or url-safe, padding optional) 256-bit KEK.

    Raises ``ValueError`` with a message that never quotes the input.
    """
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        material = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the key-encryption key is not valid base64") from None
    if len(material) != KEK_SIZE:
        raise ValueError(f"the key-encryption key must decode to {KEK_SIZE} bytes")
    return material
