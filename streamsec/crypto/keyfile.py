"""The keyring document and where it is stored.

:class:`KeyringDocument` is the JSON layout of the keyring file (documented in
``docs/envelope.md``). :class:`FileStore` keeps it in a file shared by several
worker processes: every change happens under an ``fcntl`` lock on a sibling
``.lock`` file, re-reads the file after taking the lock and replaces it
atomically (write a temporary file with mode 0600, fsync, rename). The lock is
on a separate file because a rename gives the keyring a new inode.
:class:`MemoryStore` keeps it in memory (tests, the in-memory provider).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import threading
from collections.abc import Hashable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializationInfo,
    ValidationError,
    field_serializer,
    model_validator,
)

from streamsec.crypto.envelope import KEY_ID_PATTERN
from streamsec.crypto.keys import KeyInfo, KeyPurpose, KeyState
from streamsec.crypto.providers.base import KEK_NAME_PATTERN
from streamsec.crypto.readers import reader_label
from streamsec.errors import KeyAccessError

__all__ = [
    "FileStore",
    "IndexKey",
    "KekRecord",
    "KeyRecord",
    "KeyringDocument",
    "KeyringStore",
    "MemoryStore",
    "Slot",
    "WrappedCopy",
]

KeyId = Annotated[str, Field(pattern=f"^{KEY_ID_PATTERN}$")]
_REVEAL = "streamsec.keyring.reveal-kek"
Slot = tuple[str, KeyPurpose, str | None, str]
"""A key's place in the keyring: ``(owner, purpose, subject hash, KEK label)``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KekRecord(_Strict):
    id: KeyId
    material: SecretStr | None = None
    """Legacy only: a base64url KEK kept in the keyring itself (no longer created)."""
    provider: str = "local"
    """The KEK provider that wraps this keyring's keys (``STREAMSEC_KEK_PROVIDER``)."""

    @field_serializer("material", when_used="json")
    def _material_for_file(self, material: SecretStr | None, info: SerializationInfo) -> Any:
        """Masked in every JSON dump except the keyring file's own (``_REVEAL``)."""
        if material is None:
            return None
        context = info.context
        if isinstance(context, dict) and context.get(_REVEAL) is True:
            return material.get_secret_value()
        return str(material)


class IndexKey(_Strict):
    wrapped: str
    kek_version: str


WrappedCopy = IndexKey
"""One more wrapped copy of a key: under another KEK name (a reader role's)."""


class KeyRecord(_Strict):
    id: KeyId
    purpose: KeyPurpose
    owner: str = Field(min_length=1)
    subject: str | None = None
    version: int = Field(ge=1)
    state: KeyState
    created: datetime
    destroyed: datetime | None = None
    wrapped: str | None = None
    """Base64url of the key wrapped by the KEK provider; ``null`` once destroyed."""
    kek: str = Field(default="default", pattern=f"^{KEK_NAME_PATTERN}$")
    """The name of the KEK that wraps it (``default``, or a category/role)."""
    kek_version: str = Field(default="static", min_length=1, max_length=128)
    """The provider's version of that KEK."""
    readers: tuple[str, ...] | None = Field(default=None, exclude_if=lambda v: v is None)
    """``key_separation: role`` only (format 2): the roles that may read it, sorted;
    ``wrapped`` is then under the ``all`` KEK (:mod:`streamsec.crypto.readers`)."""
    copies: dict[str, WrappedCopy] | None = Field(default=None, exclude_if=lambda v: not v)
    """``key_separation: role`` only: the key wrapped again under each reader's KEK
    (``role-<role>``); ``None`` once the key is destroyed (and for the others: no dict
    per key in a registry of millions). Neither member is dumped when
    unset, so keys without roles dump as in format 1 (their MACs still check)."""

    @model_validator(mode="after")
    def _material_fits_state(self) -> KeyRecord:
        if (self.state is KeyState.DESTROYED) != (self.wrapped is None):
            raise ValueError("a key has wrapped material exactly when it is not destroyed")
        if self.copies and (self.readers is None or self.state is KeyState.DESTROYED):
            raise ValueError("only a live role-separated key has wrapped copies")
        return self

    @property
    def slot(self) -> Slot:
        label = self.kek if self.readers is None else reader_label(self.readers)
        return (self.owner, self.purpose, self.subject, label)

    def info(self) -> KeyInfo:
        return KeyInfo(
            id=self.id,
            purpose=self.purpose,
            owner=self.owner,
            version=self.version,
            state=self.state,
            created=self.created,
            subject=self.subject,
            destroyed=self.destroyed,
            kek=self.kek,
            readers=self.readers,
        )


class KeyringDocument(_Strict):
    format: Literal["streamsec.keyring"] = "streamsec.keyring"
    format_version: Literal[1, 2] = 1
    """2 once a key is role-separated (``readers``, ``copies``): older versions refuse it."""
    created: datetime
    kek: KekRecord
    index_key: str
    """Base64url of the wrapped key that hashes subject ids (and keys the MAC)."""
    index_kek_version: str = "static"
    index_keys: dict[str, IndexKey] = Field(default_factory=dict)
    """The same index key wrapped by each other KEK name, for holders of that KEK only."""
    keys: tuple[KeyRecord, ...] = ()
    generation: int = Field(default=0, ge=0)
    """Bumped by every change: a process refuses a document older than one it has seen."""
    mac: str | None = None
    """HMAC-SHA256 of the rest of the document under a key derived (HKDF) from the
    index key, which only a KEK holder can unwrap (``streamsec.crypto.integrity``)."""

    def to_json(self) -> str:
        """The keyring file's text, with the KEK material when the file holds it.
        (Serialised by pydantic-core: the file is rewritten when a key is added.)"""
        return self.model_dump_json(indent=2, context={_REVEAL: True}) + "\n"


def parse_document(raw: bytes, *, file: str) -> KeyringDocument:
    try:
        return KeyringDocument.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        raise KeyAccessError(
            f"keyring file is invalid: {first['msg']}", file=file, key=where
        ) from None


class KeyringStore(Protocol):
    def exists(self) -> bool: ...

    def read(self) -> tuple[KeyringDocument, Hashable]:
        """The document and a signature that changes whenever the document does."""
        ...

    def signature(self) -> Hashable: ...

    def write(self, document: KeyringDocument) -> Hashable:
        """Replace the document (call under :meth:`lock`); returns the new signature."""
        ...

    def lock(self) -> contextlib.AbstractContextManager[None]: ...


class FileStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"FileStore({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def signature(self) -> Hashable:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self) -> tuple[KeyringDocument, Hashable]:
        file = str(self.path)
        try:
            with open(self.path, "rb") as fh:
                st = os.fstat(fh.fileno())
                raw = fh.read()
        except FileNotFoundError:
            raise KeyAccessError(
                "keyring file not found; create it with `streamsec keys init`", file=file
            ) from None
        except OSError as exc:
            raise KeyAccessError(f"cannot read keyring file: {exc.strerror}", file=file) from None
        document = parse_document(raw, file=file)
        if document.kek.material is not None and st.st_mode & 0o077:
            raise KeyAccessError(
                "keyring file holds the key-encryption key and is readable by others; "
                "run chmod 600 on it",
                file=file,
            )
        return document, (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyAccessError(
                f"cannot open keyring lock: {exc.strerror}", file=str(self.lock_path)
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def write(self, document: KeyringDocument) -> Hashable:
        data = document.to_json().encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise KeyAccessError(
                f"cannot write keyring file: {exc.strerror}", file=str(self.path)
            ) from None
        return self.signature()


class MemoryStore:
    """A keyring document held in memory; changes bump a counter signature."""

    def __init__(self, document: KeyringDocument | None = None) -> None:
        self._document = document
        self._generation = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "MemoryStore()"

    def exists(self) -> bool:
        return self._document is not None

    def signature(self) -> Hashable:
        return self._generation

    def read(self) -> tuple[KeyringDocument, Hashable]:
        if self._document is None:
            raise KeyAccessError("in-memory keyring was not created")
        return self._document, self._generation

    def write(self, document: KeyringDocument) -> Hashable:
        self._document = document
        self._generation += 1
        return self._generation

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with self._lock:
            yield
