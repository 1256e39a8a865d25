"""Creating and opening the keyring from settings.

``STREAMSEC_KEYRING`` (or ``--keyring``) names the key store file. The data keys
in it are wrapped by the KEK provider named by ``STREAMSEC_KEK_PROVIDER``
(``local`` by default: KEKs in ``STREAMSEC_KEK_FILE``, ``kek.json`` beside the
keyring, never inside it). ``STREAMSEC_KEK`` (base64, 32 bytes) instead gives one
fixed KEK that cannot rotate. Keyrings made by older versions, which keep their
KEK inside the file, still open.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import SecretStr

from streamsec.crypto.aad import index_key_aad
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.envelope import b64url_decode, b64url_encode
from streamsec.crypto.integrity import GenerationWatermark, document_mac, mac_key
from streamsec.crypto.keyfile import _REVEAL, FileStore, KekRecord, KeyringDocument, KeyringStore
from streamsec.crypto.keyring import Keyring, close_parts
from streamsec.crypto.keys import KEK_SIZE, decode_kek, new_key_id, utc_now
from streamsec.crypto.providers import DEFAULT_KEK, KekProvider, kek_file_of, open_kek_provider
from streamsec.crypto.providers.local import LocalKekProvider, StaticKekProvider
from streamsec.crypto.stores import open_key_store
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


def new_document(
    provider: KekProvider, *, kek_id: str | None = None, store_kek: bytes | None = None
) -> KeyringDocument:
    """A fresh, empty, authenticated keyring document whose index key ``provider`` wraps.
    ``store_kek``: legacy, KEK material to keep inside the document (tests only)."""
    kek_id = kek_id or new_key_id()
    material = None if store_kek is None else SecretStr(b64url_encode(store_kek))
    index_key = os.urandom(32)
    version, wrapped = provider.wrap(DEFAULT_KEK, index_key, index_key_aad(kek_id))
    document = KeyringDocument(
        created=utc_now(),
        kek=KekRecord(id=kek_id, material=material, provider=provider.kind),
        index_key=b64url_encode(wrapped),
        index_kek_version=version,
    )
    body = document.model_dump(mode="json", exclude={"mac"}, context={_REVEAL: True})
    return document.model_copy(update={"mac": document_mac(mac_key(index_key), body)})


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
    kek_provider: KekProvider | None = None,
    force: bool = False,
    refresh_interval: float = 1.0,
) -> Keyring:
    """Create an empty keyring whose keys ``kek_provider`` wraps; with ``kek``, one fixed
    KEK (kept outside the file); with neither, a local KEK file beside the keyring.

    Refuses to replace an existing keyring unless ``force``: replacing one makes
    everything encrypted under it unreadable.
    """
    if isinstance(store, str | Path):
        store = FileStore(store)
    if kek is not None and len(kek) != KEK_SIZE:
        raise KeyAccessError(f"the key-encryption key must be {KEK_SIZE} bytes")
    kek_id = new_key_id()
    provider: KekProvider
    if kek_provider is not None:
        provider = kek_provider
    elif kek is not None:
        provider = StaticKekProvider(kek, kek_id=kek_id)
    elif isinstance(store, FileStore):
        provider = LocalKekProvider(store.path.with_name("kek.json"))
    else:
        provider = StaticKekProvider(os.urandom(KEK_SIZE), kek_id=kek_id)
    file = str(store.path) if isinstance(store, FileStore) else None
    document = new_document(provider, kek_id=kek_id)
    if getattr(store, "entry_authenticated", False):  # the registry MACs each entry it writes
        index_key = provider.unwrap(DEFAULT_KEK, document.index_kek_version,
                                    b64url_decode(document.index_key), index_key_aad(kek_id))
        store.use_mac_key(mac_key(index_key))  # type: ignore[attr-defined]
    with store.lock():
        if store.exists() and not force:
            raise KeyAccessError(
                "a keyring already exists; pass --force to replace it (its keys are lost)",
                file=file,
            )
        store.write(document)
    log.info("created keyring file=%s kek provider=%s", file, provider.kind)
    return Keyring(
        store,
        kek=kek if kek_provider is None else None,
        kek_provider=None if kek is not None and kek_provider is None else provider,
        refresh_interval=refresh_interval,
    )


def provider_from_settings(settings: Settings, keyring: Path) -> KekProvider | None:
    """The KEK provider for ``keyring``; ``None`` when a fixed or legacy in-file KEK applies."""
    if settings.kek is not None:
        return None
    if settings.kek_provider == "local" and not kek_file_of(settings, keyring).exists():
        return None  # a legacy keyring with its KEK inside (or a clear error from Keyring)
    return open_kek_provider(settings, keyring=keyring)


def open_store(settings: Settings, path: Path) -> KeyringStore:
    """``STREAMSEC_KEY_STORE``: the keyring file, or a store registered by that name
    (:mod:`streamsec.crypto.stores`; ``kafka`` is the Kafka key registry)."""
    return open_key_store(settings, path)


def open_keyring(
    settings: Settings | None = None,
    *,
    path: Path | str | None = None,
    refresh_interval: float = 1.0,
) -> Keyring:
    """Open the keyring named by ``path`` or the settings; raises :class:`KeyAccessError`."""
    settings = settings if settings is not None else load_settings()
    target = Path(path) if path is not None else settings.keyring
    watermark = None
    if settings.key_store == "file":  # the Kafka registry has its log order instead
        watermark = GenerationWatermark(settings.home / "keyring-generations.json")
    store = open_store(settings, target)
    provider = None
    try:  # a keyring that does not open releases its store (a Kafka registry's reader)
        kek = kek_from_settings(settings)
        provider = provider_from_settings(settings, target)
        return Keyring(
            store, kek=kek, kek_provider=provider, refresh_interval=refresh_interval,
            watermark=watermark,
        )  # fmt: skip
    except BaseException:
        close_parts(store, provider)
        raise


def init_keyring(
    path: Path | str | None = None, *, settings: Settings | None = None, force: bool = False
) -> Keyring:
    """``streamsec keys init``: create the keyring named by ``path`` or the settings.

    Its data keys are wrapped by ``STREAMSEC_KEK_PROVIDER`` (a local KEK file by
    default, never the keyring itself), or by the fixed ``STREAMSEC_KEK``.
    """
    settings = settings if settings is not None else load_settings()
    target = Path(path) if path is not None else settings.keyring
    kek = kek_from_settings(settings)
    provider = None if kek is not None else open_kek_provider(settings, keyring=target)
    store: KeyringStore | None = None
    try:  # refused (one exists already): the store and the provider are released
        store = open_store(settings, target)
        return create_keyring(store, kek=kek, kek_provider=provider, force=force)
    except BaseException:
        close_parts(store, provider)
        raise


def open_cipher(
    settings: Settings | None, topology: str, *, separate_by_category: bool = False
) -> KeyringCipher:
    """The field cipher of ``topology`` over the keyring named by the settings."""
    return KeyringCipher(
        open_keyring(settings), topology, separate_by_category=separate_by_category
    )
