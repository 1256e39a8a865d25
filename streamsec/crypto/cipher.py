"""The :class:`~streamsec.crypto.base.FieldCipher` over a :class:`KeyProvider`.

* ``encrypt`` writes envelope version 2: AES-256-GCM under the topology's current
  ``encrypt`` key, with a per-message subkey (XAES-256-GCM style: a random 24-byte
  nonce, whose first 12 bytes derive the subkey with HKDF-Expand-SHA256 and whose last 12
  are the GCM nonce), or AES-SIV (deterministic) under its ``deterministic`` key.
  The plaintext is padded to the topology's bucket size
  (:func:`~streamsec.crypto.plaintext.pad`). The associated data binds the envelope
  header, the topology, the field path and the record :class:`Binding` (subject,
  record, list position) (:func:`~streamsec.crypto.aad.ciphertext_aad`), so a
  ciphertext moved to another field, record, subject or list position fails.
* ``decrypt`` also reads version 1 (no binding, no padding, 12-byte nonce).
* ``pseudonymize``: ``hmac:<key id>:<base64url of the first 16 bytes of
  HMAC-SHA256(hash key, data)>``. The path is *not* mixed in, so equal values in
  different fields of one topology get equal pseudonyms (joins work); a rotation of
  the hash key changes every pseudonym.

No function takes a nonce: every GCM nonce comes from ``os.urandom`` inside
:func:`seal`, so the public API cannot reuse one. :class:`KeyringCipher` keeps one
subkey seed per data key for up to :data:`SUBKEY_USES` messages (:class:`Subkeys`:
the HKDF and the AES key schedule run once per seed instead of once per value); the
96-bit GCM nonce of every message is still fresh from ``os.urandom``.
:func:`seal`, :func:`unseal` and :func:`pseudonym` are the pure primitives (also used
to check the test vectors in ``docs/envelope.md``).
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Callable, Collection
from typing import Final, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from streamsec.crypto.aad import Binding, ciphertext_aad, encode_fields
from streamsec.crypto.envelope import (
    GCM_NONCE,
    KEY_ID_PATTERN,
    PREFIX,
    READABLE_VERSIONS,
    VERSION,
    Alg,
    Envelope,
    b64url_encode,
    envelope_header,
    parse_envelope,
)
from streamsec.crypto.keys import DataKey, KeyPurpose
from streamsec.crypto.plaintext import DEFAULT_PAD, pad, unpad
from streamsec.crypto.provider import KeyProvider
from streamsec.errors import (
    DecryptionError,
    EncryptionError,
    KeyDestroyedError,
    StreamsecError,
    SubjectForgottenError,
)

__all__ = [
    "PSEUDONYM_RE",
    "SUBKEY_USES",
    "Binding",
    "KekChooser",
    "KeyringCipher",
    "Subkeys",
    "gcm_subkey",
    "kek_name",
    "pseudonym",
    "seal",
    "unseal",
]

PSEUDONYM_RE: Final = re.compile(rf"hmac:(?P<key_id>{KEY_ID_PATTERN}):(?P<mac>[A-Za-z0-9_-]{{22}})")
_ALG_PURPOSE: Final = {"gcm": KeyPurpose.ENCRYPT, "siv": KeyPurpose.DETERMINISTIC}
_PURPOSE: Final = {False: KeyPurpose.ENCRYPT, True: KeyPurpose.DETERMINISTIC}
_SUBKEY_LABEL: Final = encode_fields("ssec-gcm-subkey", "v2")
_KEY_ID_RE: Final = re.compile(KEY_ID_PATTERN)
_HEADER_VERSIONS: Final = frozenset(f"v{v}" for v in READABLE_VERSIONS)
_NONCE: Final = GCM_NONCE[VERSION]
_SEED: Final = 12
SUBKEY_USES: Final = 256
"""Messages one subkey seals before :class:`Subkeys` draws a new seed."""
_SUBKEYS_KEPT: Final = 256


def gcm_subkey(key: DataKey, seed: bytes) -> AESGCM:
    """The per-message AES-256-GCM key of a v2 envelope: HKDF-Expand-SHA256 (RFC 5869;
    the data key is uniformly random, so it is the PRK and the extract step is skipped)
    with ``info = LP("ssec-gcm-subkey") || LP("v2") || seed`` (12 random bytes), 32 bytes."""
    if key.purpose is not KeyPurpose.ENCRYPT:
        raise ValueError("not an encryption key")
    okm = HKDFExpand(SHA256(), 32, info=_SUBKEY_LABEL + seed).derive(key.material)
    return AESGCM(okm)


def _seal(
    key: DataKey, plaintext: bytes, *, topology: str, path: str, binding: Binding | None,
    pad_to: int, nonce: bytes, subkey: AESGCM | None = None,
) -> str:
    """:func:`seal` with a given 24-byte nonce (and the subkey of its first 12 bytes,
    when the caller holds it): private, for the test vectors and :class:`Subkeys`."""
    alg: Alg = "siv" if key.purpose is KeyPurpose.DETERMINISTIC else "gcm"
    aad = ciphertext_aad(
        version=VERSION, key_id=key.id, alg=alg, topology=topology, path=path, binding=binding
    )
    padded = pad(plaintext, pad_to)
    if alg == "siv":
        payload = key.siv().encrypt(padded, [aad])
    else:
        if len(nonce) != _NONCE:
            raise ValueError("a v2 GCM nonce is 24 bytes")
        aead = subkey if subkey is not None else gcm_subkey(key, nonce[:_SEED])
        payload = nonce + aead.encrypt(nonce[_SEED:], padded, aad)
    return envelope_header(VERSION, key.id, alg) + b64url_encode(payload)


def seal(
    key: DataKey, plaintext: bytes, *, topology: str, path: str, binding: Binding | None = None,
    pad_to: int = DEFAULT_PAD,
) -> str:
    """Encrypt under ``key`` (GCM for an ``encrypt`` key, SIV for a ``deterministic`` one)
    as a version-2 envelope. The GCM nonce is always fresh from ``os.urandom``."""
    nonce = os.urandom(_NONCE) if key.purpose is KeyPurpose.ENCRYPT else b""
    return _seal(
        key, plaintext, topology=topology, path=path, binding=binding, pad_to=pad_to,
        nonce=nonce,
    )


class Subkeys:
    """The subkey of a GCM data key's current seed, reused for up to
    :data:`SUBKEY_USES` messages (then a new random seed).

    Every message still gets a fresh random 96-bit GCM nonce, so under one subkey
    the chance that two of its at most 256 nonces collide is below 2^-81; and the
    seeds themselves are drawn 256 times less often. Envelopes do not change (each
    carries its seed), nor does decryption. What an observer learns: envelopes with
    the same seed were sealed under the same data key by one process, close
    together. The entry is tied to the key object the provider returned, so a
    rotated or re-loaded key gets a new seed; at most :data:`_SUBKEYS_KEPT` keys
    are held (per-subject keys would otherwise grow it without bound). A key the
    provider no longer releases (destroyed, forgotten) is never asked for here."""

    def __init__(self) -> None:
        self._by_key: dict[str, tuple[DataKey, bytes, AESGCM, int]] = {}

    def seal(
        self, key: DataKey, plaintext: bytes, *, topology: str, path: str,
        binding: Binding | None, pad_to: int,
    ) -> str:
        if key.purpose is not KeyPurpose.ENCRYPT:
            return seal(key, plaintext, topology=topology, path=path, binding=binding,
                        pad_to=pad_to)
        entry = self._by_key.get(key.id)
        if entry is None or entry[0] is not key or entry[3] <= 0:
            if len(self._by_key) >= _SUBKEYS_KEPT:
                self._by_key.clear()
            seed = os.urandom(_SEED)
            entry = (key, seed, gcm_subkey(key, seed), SUBKEY_USES)
        self._by_key[key.id] = (key, entry[1], entry[2], entry[3] - 1)
        return _seal(
            key, plaintext, topology=topology, path=path, binding=binding, pad_to=pad_to,
            nonce=entry[1] + os.urandom(_NONCE - _SEED), subkey=entry[2],
        )


def unseal(
    key: DataKey, envelope: Envelope, *, topology: str, path: str, binding: Binding | None = None
) -> bytes:
    """Decrypt a v1 or v2 envelope; raises ``cryptography.exceptions.InvalidTag`` when
    authentication fails (``binding`` is not part of a v1 envelope)."""
    aad = ciphertext_aad(
        version=envelope.version, key_id=envelope.key_id, alg=envelope.alg,
        topology=topology, path=path, binding=binding,
    )  # fmt: skip
    payload = envelope.payload
    if envelope.alg == "siv":
        plain = key.siv().decrypt(payload, [aad])
    elif envelope.version == 1:
        return key.gcm().decrypt(payload[:12], payload[12:], aad)
    else:
        plain = gcm_subkey(key, payload[:12]).decrypt(payload[12:24], payload[24:], aad)
    if envelope.version == 1:
        return plain
    try:
        return unpad(plain)
    except ValueError:
        raise InvalidTag from None  # authenticated, yet not ours: treat as a failure


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


KekChooser = Callable[[str, str | None, str | None], str]
"""``(path, category, entity) -> KEK label`` of a field under key separation."""


def _by_category(path: str, category: str | None, entity: str | None) -> str:
    return kek_name(category)


class KeyringCipher:
    """A field cipher for one topology; keys come from a :class:`KeyProvider`.

    ``kek_of`` picks each field's KEK label under key separation (see
    :func:`streamsec.protection.keks.field_keks`); ``separate_by_category`` is the
    category chooser."""

    def __init__(
        self, provider: KeyProvider, topology: str, *, separate_by_category: bool = False,
        kek_of: KekChooser | None = None,
    ) -> None:
        self.provider = provider
        self.topology = topology
        self.kek_of = kek_of or (_by_category if separate_by_category else None)
        self._subkeys = Subkeys()
        self._last: tuple[str, str] = ("", "")
        """The last envelope this cipher wrote and its key id (``key_id_of`` of it
        then needs no parsing)."""

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
        binding: Binding | None = None,
        pad_to: int = DEFAULT_PAD,
        entity: str | None = None,
    ) -> str:
        purpose = _PURPOSE[deterministic]
        kek = "default" if self.kek_of is None else self.kek_of(path, category, entity)
        try:
            key = self.provider.current_key(self.topology, purpose, subject, kek=kek)
        except KeyDestroyedError as exc:
            if subject is not None:
                raise SubjectForgottenError(
                    "the record's data subject was forgotten", path=path
                ) from None
            _reraise(exc, path)
        except StreamsecError as exc:
            _reraise(exc, path)
        try:
            token = self._subkeys.seal(
                key, plaintext, topology=self.topology, path=path, binding=binding,
                pad_to=pad_to,
            )
        except (ValueError, TypeError, OverflowError, MemoryError):
            raise EncryptionError("encryption failed", path=path, key_id=key.id) from None
        self._last = (token, key.id)
        return token

    def check_subject(self, subject: str) -> None:
        try:
            self.provider.current_key(self.topology, KeyPurpose.ENCRYPT, subject)
        except KeyDestroyedError:
            raise SubjectForgottenError("the record's data subject was forgotten") from None

    def prepare_keys(self, needs: Collection[tuple[str, bool]]) -> None:
        if self.kek_of is not None:
            return  # the KEK depends on each field: created field by field
        slots = [(_PURPOSE[deterministic], subject) for subject, deterministic in needs]
        self.provider.ensure_keys(self.topology, slots)

    def decrypt(self, token: str, *, path: str, binding: Binding | None = None) -> bytes:
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
            return unseal(key, envelope, topology=self.topology, path=path, binding=binding)
        except InvalidTag:
            raise DecryptionError(
                "ciphertext failed authentication: tampered, moved to another field, "
                "record, subject or list position, or not encrypted under this key",
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
        """The key id of an envelope (read from its header; a token whose header is not
        well formed is parsed in full, so it raises :class:`EnvelopeFormatError`)."""
        last = self._last
        if token is last[0]:
            return last[1]
        parts = token.split(":", 4) if isinstance(token, str) else ()
        if (
            len(parts) == 5 and parts[0] == PREFIX and parts[1] in _HEADER_VERSIONS
            and parts[3] in _ALG_PURPOSE and _KEY_ID_RE.fullmatch(parts[2])
        ):
            return parts[2]
        return parse_envelope(token).key_id
