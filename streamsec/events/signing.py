"""Who may write the audit trail: Ed25519 signing keys and the audit pseudonym key.

An audit writer (a worker, a consumer, the CLI) holds an :class:`AuditSigner`: an
Ed25519 private key that only it holds. It signs checkpoints, digests and
handover records (:mod:`streamsec.events.chain`, :mod:`streamsec.events.digests`);
verifiers need only public keys (:mod:`streamsec.events.trust`). The default
:class:`FileSigner` keeps the key in a 0600 PEM file under ``STREAMSEC_HOME``,
apart from the data keyring. An HSM-held key plugs in as any object with
``key_id``, ``public_key()`` and ``sign()`` (PKCS#11 ``CKM_EDDSA``): the private key
then never leaves the HSM.

Pseudonyms (record keys, subject ids) are keyed under the *audit pseudonym key*: a
separate 32-byte secret held by the audit writers and the auditors, never by the
data keyring, so whoever holds data keys cannot brute-force them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from streamsec.errors import ConfigError

if TYPE_CHECKING:
    from streamsec.settings import Settings

__all__ = [
    "AuditIdentity",
    "AuditSigner",
    "FileSigner",
    "Pseudonymizer",
    "key_id_of",
    "load_private_key",
    "public_from_b64",
    "public_key_b64",
    "signature_ok",
    "write_private_key",
]

log = logging.getLogger(__name__)

_KEY_ID_PREFIX: Final = "ed25519:"


def key_id_of(public_key: bytes) -> str:
    """``ed25519:`` and the first 16 hex digits of SHA-256 of the raw public key."""
    return _KEY_ID_PREFIX + hashlib.sha256(public_key).hexdigest()[:16]


def public_key_b64(public_key: bytes) -> str:
    return base64.b64encode(public_key).decode("ascii")


def public_from_b64(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from base64 of its 32 raw bytes (ValueError if not)."""
    raw = base64.b64decode(text.strip(), validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def signature_ok(public_key: Ed25519PublicKey, signature_b64: object, message: bytes) -> bool:
    """Whether ``signature_b64`` (base64) is a valid Ed25519 signature of ``message``."""
    if not isinstance(signature_b64, str) or len(signature_b64) != 88:
        return False
    try:
        public_key.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@runtime_checkable
class AuditSigner(Protocol):
    """Signs audit checkpoints. Implementations keep the private key to themselves."""

    @property
    def key_id(self) -> str: ...

    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        ...


def create_secret_file(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data``, 0600, all at once: written to a private temporary
    file beside it, synced, then hard-linked into place. Raises FileExistsError when
    ``path`` exists (another process won the race: its file is already complete). A
    reader never sees the file empty or half written, as it could between an
    ``O_EXCL`` create and the write (two workers starting together read a 0-byte key)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """PKCS#8 PEM, created 0600 (never world- or group-readable, not even briefly, and
    never visible half written)."""
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    create_secret_file(path, pem)


def load_private_key(path: Path, what: str = "audit signing key") -> Ed25519PrivateKey:
    """Read an Ed25519 PKCS#8 PEM; refuses a file others can read."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError:
        raise ConfigError(f"cannot read the {what}", file=str(path)) from None
    if mode & 0o077:
        raise ConfigError(f"the {what} file is readable by others (chmod 600)", file=str(path))
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"the {what} file is not a PEM private key", file=str(path)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"the {what} is not an Ed25519 key", file=str(path))
    return key


class FileSigner:
    """An Ed25519 signing key in a 0600 PEM file (created on first use)."""

    __slots__ = ("_key", "_public", "key_id", "path")

    def __init__(self, key: Ed25519PrivateKey, path: Path | None = None) -> None:
        self._key = key
        self._public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = key_id_of(self._public)
        self.path = path

    @classmethod
    def generate(cls) -> FileSigner:
        """A fresh in-memory key (tests, one-off tools)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> FileSigner:
        if not path.exists():
            if not create:
                raise ConfigError("no audit signing key (run: streamsec audit keygen)",
                                  file=str(path))
            try:
                write_private_key(path, Ed25519PrivateKey.generate())
            except FileExistsError:
                pass  # another process created it first
            except OSError:
                raise ConfigError("cannot create the audit signing key", file=str(path)) from None
            log.info("created an audit signing key at %s; certify it: streamsec audit certify",
                     path)
        return cls(load_private_key(path), path)

    def public_key(self) -> bytes:
        return self._public

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"FileSigner(key_id={self.key_id})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("key material cannot be pickled")


class Pseudonymizer:
    """Keyed HMAC-SHA256 pseudonyms under the audit pseudonym key (never a data key).

    A data-key holder cannot recompute them, so cannot brute-force a customer id
    from an event; an auditor with the pseudonym key can find one id's events.
    """

    __slots__ = ("_record_key", "_record_mac", "_subject")

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the audit pseudonym key must be at least 32 bytes")
        self._record_key = hmac.new(key, b"streamsec/audit/record-key/v2", hashlib.sha256).digest()
        self._subject = hmac.new(key, b"streamsec/audit/subject/v2", hashlib.sha256).digest()
        self._record_mac = hmac.new(self._record_key, digestmod=hashlib.sha256)
        """Keyed once; each record key is hashed on a copy (the same HMAC, without
        setting the key up again per record)."""

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Pseudonymizer:
        """The key in ``path`` (base64 of 32 bytes, 0600); created when missing."""
        if not path.exists() and create:
            encoded = base64.b64encode(secrets.token_bytes(32)) + b"\n"
            try:
                create_secret_file(path, encoded)
            except FileExistsError:
                pass  # another process created it first (complete: see create_secret_file)
            except OSError:
                raise ConfigError("cannot create the audit pseudonym key", file=str(path)) from None
            else:
                log.info("created an audit pseudonym key at %s; give the same key to every "
                         "worker and auditor", path)
        try:
            if path.stat().st_mode & 0o077:
                raise ConfigError("the audit pseudonym key file is readable by others (chmod 600)",
                                  file=str(path))
            key = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
        except (OSError, UnicodeDecodeError, ValueError):
            raise ConfigError("cannot read the audit pseudonym key (base64)",
                              file=str(path)) from None
        if len(key) < 32:
            raise ConfigError("the audit pseudonym key must be 32 bytes", file=str(path))
        return cls(key)

    def record_key(self, key: bytes | None) -> str | None:
        """Pseudonym of a Kafka record key (``None`` for a record without key)."""
        if key is None:
            return None
        mac = self._record_mac.copy()
        mac.update(key)
        return mac.hexdigest()

    def subject(self, subject_id: str) -> str:
        """Pseudonym of a data-subject id."""
        return hmac.new(self._subject, subject_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "Pseudonymizer(<audit pseudonym key>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("key material cannot be pickled")


@dataclass(frozen=True, slots=True)
class AuditIdentity:
    """What an audit writer holds: its signing key and the audit pseudonym key."""

    signer: AuditSigner
    pseudonyms: Pseudonymizer

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = True) -> AuditIdentity:
        """``STREAMSEC_AUDIT_SIGNING_KEY`` / ``STREAMSEC_AUDIT_PSEUDONYM_KEY`` (default:
        ``$STREAMSEC_HOME/audit/signing.key`` and ``.../pseudonym.key``)."""
        return cls(
            FileSigner.open(signing_key_path(settings), create=create),
            Pseudonymizer.open(pseudonym_key_path(settings), create=create),
        )

    @classmethod
    def ephemeral(cls) -> AuditIdentity:
        """A throwaway identity (tests, dry runs): verifies only against itself."""
        return cls(FileSigner.generate(), Pseudonymizer(secrets.token_bytes(32)))


def signing_key_path(settings: Settings) -> Path:
    return settings.audit_signing_key or settings.home / "audit" / "signing.key"


def pseudonym_key_path(settings: Settings) -> Path:
    return settings.audit_pseudonym_key or settings.home / "audit" / "pseudonym.key"
