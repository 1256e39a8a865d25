"""Creating and opening the local keyring file from settings.

``STREAMSEC_KEYRING`` (or ``--keyring``) names the file. ``STREAMSEC_KEK`` (base64,
32 bytes), when set, is the key-encryption key: it is then never written to the
file. Otherwise :func:`create_keyring` generates a KEK and keeps it in the file,
which is created with mode 0600.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import SecretStr

from streamsec.crypto.aad import index_key_aad
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.envelope import b64url_encode
from streamsec.crypto.keyfile import FileStore, KekRecord, KeyringDocument, KeyringStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keys import KEK_SIZE, Kek, decode_kek, new_key_id, utc_now
from streamsec.errors import KeyAccessError, SettingsError
from streamsec.settings import Settings, load_settings

__all__ = [
    "create_keyring",
    "init_keyring",
    "kek_from_settings",
    "new_document",
    "open_cipher",
    "open_keyring",
]

log = logging.getLogger(__name__)


def new_document(kek: Kek, *, store_kek: bytes | None) -> KeyringDocument:
    """A fresh, empty keyring document. ``store_kek``: KEK material to keep in it."""
    material = None if store_kek is None else SecretStr(b64url_encode(store_kek))
    wrapped_index = kek.wrap(os.urandom(32), index_key_aad(kek.id))
    return KeyringDocument(
        created=utc_now(),
        kek=KekRecord(id=kek.id, material=material),
        index_key=b64url_encode(wrapped_index),
    )


def kek_from_settings(settings: Settings) -> bytes | None:
    """The KEK from ``STREAMSEC_KEK``, or ``None`` when unset."""
    if settings.kek is None:
        return None
    try:
        return decode_kek(settings.kek.get_secret_value())
    except ValueError as exc:
        raise SettingsError(str(exc), key="STREAMSEC_KEK") from None


def create_keyring(
    store: KeyringStore | Path | str,
    *,
    kek: bytes | None = None,
    force: bool = False,
    refresh_interval: float = 1.0,
) -> Keyring:
    """Create an empty keyring. ``kek`` given: kept outside the file; else generated and stored.

    Refuses to replace an existing keyring unless ``force``: replacing one makes
    everything encrypted under it unreadable.
    """
    if isinstance(store, str | Path):
        store = FileStore(store)
    if kek is not None and len(kek) != KEK_SIZE:
        raise KeyAccessError(f"the key-encryption key must be {KEK_SIZE} bytes")
    material = kek if kek is not None else os.urandom(KEK_SIZE)
    document = new_document(
        Kek(material, kek_id=new_key_id()), store_kek=None if kek is not None else material
    )
    file = str(store.path) if isinstance(store, FileStore) else None
    with store.lock():
        if store.exists() and not force:
            raise KeyAccessError(
                "a keyring already exists; pass --force to replace it (its keys are lost)",
                file=file,
            )
        store.write(document)
    log.info("created keyring file=%s kek=%s", file, "external" if kek else "stored")
    return Keyring(store, kek=kek, refresh_interval=refresh_interval)


def open_keyring(
    settings: Settings | None = None,
    *,
    path: Path | str | None = None,
    refresh_interval: float = 1.0,
) -> Keyring:
    """Open the keyring named by ``path`` or the settings; raises :class:`KeyAccessError`."""
    settings = settings if settings is not None else load_settings()
    store = FileStore(path if path is not None else settings.keyring)
    return Keyring(store, kek=kek_from_settings(settings), refresh_interval=refresh_interval)


def init_keyring(
    path: Path | str | None = None, *, settings: Settings | None = None, force: bool = False
) -> Keyring:
    """``streamsec keys init``: create the keyring named by ``path`` or the settings.

    With ``STREAMSEC_KEK`` set, that KEK protects the keyring and is not written to
    the file; otherwise a new KEK is generated and kept in the file (mode 0600).
    """
    settings = settings if settings is not None else load_settings()
    target = Path(path) if path is not None else settings.keyring
    return create_keyring(target, kek=kek_from_settings(settings), force=force)


def open_cipher(settings: Settings | None, topology: str) -> KeyringCipher:
    """The field cipher of ``topology`` over the keyring named by the settings."""
    return KeyringCipher(open_keyring(settings), topology)
