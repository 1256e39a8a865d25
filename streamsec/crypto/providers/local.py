"""The local KEK provider: KEKs are 256-bit AES keys in a file of their own.

The file (``STREAMSEC_KEK_FILE``, default ``kek.json`` next to the keyring) is
kept apart from the key store: never inside ``keyring.json``, never in an
environment variable. It is created with mode 0600 and changed under an
``fcntl`` lock, by atomic replacement.

What the local provider **cannot** promise (see ``docs/keys.md``): whoever can
read the KEK file (root, a backup, the worker's own account) holds every KEK;
a destroyed version is gone from the file but not from copies of it taken
before; nothing separates one KEK name from another except file permissions.

:class:`StaticKekProvider` serves one fixed KEK (``STREAMSEC_KEK``, or a legacy
keyring that keeps its KEK inside itself): it cannot rotate.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamsec.crypto.keys import KEK_SIZE, Kek, decode_kek
from streamsec.errors import KeyAccessError

__all__ = ["LocalKekProvider", "StaticKekProvider", "fallback_provider"]

if TYPE_CHECKING:
    from streamsec.crypto.keyfile import KeyringDocument
    from streamsec.crypto.providers.base import KekProvider

_FORMAT = "streamsec.kek-file"


def _unwrap(kek: Kek, wrapped: bytes, aad: bytes) -> bytes:
    material = kek.unwrap(wrapped, aad)
    if material is None:
        raise KeyAccessError("cannot unwrap: wrong key-encryption key or tampered key store")
    return material


class StaticKekProvider:
    """One fixed KEK (version ``static``) for every name; rotation is refused."""

    kind = "local"

    def __init__(self, material: bytes, *, kek_id: str) -> None:
        self._kek = Kek(material, kek_id=kek_id)

    def __repr__(self) -> str:
        return "StaticKekProvider()"

    def wrap(
        self, name: str, material: bytes, aad: bytes, *, create: bool = True
    ) -> tuple[str, bytes]:
        return "static", self._kek.wrap(material, aad)

    def unwrap(self, name: str, version: str, wrapped: bytes, aad: bytes) -> bytes:
        if version != "static":
            raise KeyAccessError("this key-encryption key version is not available", key=name)
        return _unwrap(self._kek, wrapped, aad)

    def rotate(self, name: str) -> str:
        raise KeyAccessError(
            "a fixed key-encryption key (STREAMSEC_KEK or one kept in the keyring) cannot "
            "rotate: use STREAMSEC_KEK_PROVIDER=local with a KEK file, or an HSM/KMS"
        )

    def destroy_version(self, name: str, version: str) -> None:
        raise KeyAccessError("a fixed key-encryption key cannot be destroyed here")

    def close(self) -> None:
        return None

    def __reduce__(self) -> Any:
        raise TypeError("key material cannot be pickled")


class LocalKekProvider:
    """KEK versions per name, in a JSON file: ``{"keks": {name: {"current", "versions"}}}``."""

    kind = "local"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._keks: dict[tuple[str, str], Kek] = {}
        self._signature: object = None
        self._doc: dict[str, Any] = {"format": _FORMAT, "keks": {}}

    def __repr__(self) -> str:
        return f"LocalKekProvider({str(self.path)!r})"

    def __reduce__(self) -> Any:
        raise TypeError("key material cannot be pickled")

    # --- KekProvider -------------------------------------------------------------

    def wrap(
        self, name: str, material: bytes, aad: bytes, *, create: bool = True
    ) -> tuple[str, bytes]:
        self._load()
        entry = self._doc["keks"].get(name)
        if entry is None:
            if not create:
                raise KeyAccessError("no such key-encryption key", key=name, file=str(self.path))
            with self._locked() as doc:
                if name not in doc["keks"]:
                    doc["keks"][name] = {"current": "1", "versions": {"1": _new_material()}}
            entry = self._doc["keks"][name]
        version = str(entry["current"])
        return version, self._kek(name, version).wrap(material, aad)

    def unwrap(self, name: str, version: str, wrapped: bytes, aad: bytes) -> bytes:
        self._load()
        return _unwrap(self._kek(name, version), wrapped, aad)

    def rotate(self, name: str) -> str:
        with self._locked() as doc:
            entry = doc["keks"].setdefault(name, {"current": "0", "versions": {}})
            version = str(max([0, *(int(v) for v in entry["versions"])]) + 1)
            entry["versions"][version] = _new_material()
            entry["current"] = version
        return version

    def destroy_version(self, name: str, version: str) -> None:
        with self._locked() as doc:
            entry = doc["keks"].get(name)
            if entry is None or version not in entry["versions"]:
                return
            if entry["current"] == version:
                raise KeyAccessError("refusing to destroy the current key-encryption key", key=name)
            del entry["versions"][version]
        self._keks.pop((name, version), None)

    def close(self) -> None:
        self._keks.clear()

    # --- the file ----------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def _kek(self, name: str, version: str) -> Kek:
        kek = self._keks.get((name, version))
        if kek is not None:
            return kek
        entry = self._doc["keks"].get(name)
        text = None if entry is None else entry["versions"].get(version)
        if text is None:
            self._load(force=True)
            entry = self._doc["keks"].get(name)
            text = None if entry is None else entry["versions"].get(version)
        if text is None:
            raise KeyAccessError(
                "key-encryption key version not found (destroyed?)",
                key=f"{name}/v{version}",
                file=str(self.path),
            )
        try:
            material = base64.urlsafe_b64decode(text)
        except ValueError:
            raise KeyAccessError("KEK file is invalid", file=str(self.path)) from None
        kek = Kek(material, kek_id=f"{name}-v{version}")
        self._keks[(name, version)] = kek
        return kek

    def _stat(self) -> object:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self, *, force: bool = False) -> None:
        signature = self._stat()
        if signature is None:
            self._doc = {"format": _FORMAT, "keks": {}}
            self._signature = None
            return
        if signature == self._signature and not force:
            return
        file = str(self.path)
        try:
            with open(self.path, "rb") as fh:
                mode = os.fstat(fh.fileno()).st_mode
                doc = json.loads(fh.read())
        except (OSError, ValueError):
            raise KeyAccessError("cannot read the KEK file", file=file) from None
        if mode & 0o077:
            raise KeyAccessError("KEK file is readable by others; run chmod 600 on it", file=file)
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise KeyAccessError("not a streamsec KEK file", file=file)
        self._doc, self._signature = doc, signature
        self._keks = {k: v for k, v in self._keks.items() if k[1] in _versions(doc, k[0])}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._load(force=True)
            doc = json.loads(json.dumps(self._doc))
            yield doc
            self._write(doc)
            self._load(force=True)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _write(self, doc: dict[str, Any]) -> None:
        data = json.dumps(doc, indent=2).encode()
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise KeyAccessError(
                f"cannot write the KEK file: {exc.strerror}", file=str(self.path)
            ) from None


def _versions(doc: dict[str, Any], name: str) -> dict[str, Any]:
    entry = doc["keks"].get(name)
    return {} if entry is None else dict(entry["versions"])


def _new_material() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEK_SIZE)).decode()


def fallback_provider(
    document: KeyringDocument, external_kek: bytes | None, store_path: object
) -> KekProvider:
    """No provider given: ``STREAMSEC_KEK``, a legacy KEK inside the document, or the
    default local KEK file beside the keyring file."""
    if external_kek is not None:
        material = external_kek
    elif document.kek.material is not None:
        try:
            material = decode_kek(document.kek.material.get_secret_value())
        except ValueError as exc:
            raise KeyAccessError(str(exc), key="kek.material") from None
    else:
        beside = None if store_path is None else Path(str(store_path)).with_name("kek.json")
        if document.kek.provider == "local" and beside is not None and beside.exists():
            return LocalKekProvider(beside)
        raise KeyAccessError(
            f"this keyring's key-encryption keys are held by the {document.kek.provider!r} "
            "provider: set STREAMSEC_KEK_PROVIDER (or STREAMSEC_KEK for a fixed KEK)"
        )
    if len(material) != KEK_SIZE:
        raise KeyAccessError(f"the key-encryption key must be {KEK_SIZE} bytes")
    return StaticKekProvider(material, kek_id=document.kek.id)
