"""What a keyring holds of its store: the last document it authenticated, indexed.

:class:`KeyringState` reads a :class:`~streamsec.crypto.keyfile.KeyringStore`,
unlocks each new document (the KEK provider unwraps its index key, from which the
MAC key is derived), checks it (the document's MAC and generation; a store that
authenticates each entry itself, the Kafka key registry, checks its entries),
indexes its keys (by id, the latest version of each slot, the forgotten subjects)
and keeps the unwrapped data keys in a bounded LRU cache, dropping every cached
key a new document changed. It also writes a changed document back.

It takes no lock: :class:`~streamsec.crypto.keyring.Keyring` calls it under its own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from streamsec.crypto.aad import index_key_aad
from streamsec.crypto.envelope import b64url_decode
from streamsec.crypto.integrity import GenerationWatermark, mac_key, seal_document, verify_document
from streamsec.crypto.keyfile import KeyRecord, KeyringDocument, KeyringStore, Slot
from streamsec.crypto.keys import DataKey, KeyState
from streamsec.crypto.providers.base import DEFAULT_KEK, KekProvider
from streamsec.crypto.providers.local import fallback_provider
from streamsec.crypto.wrapping import unwrap_record
from streamsec.errors import KeyAccessError, KeyDestroyedError

__all__ = ["KeyringState"]


class KeyringState:
    """The authenticated content of ``store`` and the data keys unwrapped from it.

    ``kek_provider`` / ``kek`` / neither: as for :class:`~streamsec.crypto.keyring.Keyring`
    (the provider given, a fixed KEK, or the legacy KEK kept in the document).
    """

    def __init__(
        self,
        store: KeyringStore,
        *,
        kek: bytes | None,
        kek_provider: KekProvider | None,
        cache_size: int,
        watermark: GenerationWatermark | None,
    ) -> None:
        self.store = store
        self.given_provider = kek_provider
        self.kek_provider: KekProvider | None = kek_provider
        self._external_kek = kek
        self._watermark = watermark
        self._cache_size = cache_size
        self.cache: OrderedDict[str, DataKey] = OrderedDict()
        self.index_key = b""
        self.mac_key = b""
        self.generation = -1
        self.document: KeyringDocument | None = None
        self.by_id: dict[str, KeyRecord] = {}
        self.latest: dict[Slot, KeyRecord] = {}
        self.forgotten: set[tuple[str, str]] = set()
        """``(owner, subject hash)`` of every crypto-shredded subject."""
        self.signature: Hashable = None

    def __repr__(self) -> str:
        return f"KeyringState(store={self.store!r}, keys={len(self.by_id)})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a keyring's state holds key material and cannot be pickled")

    @property
    def entry_store(self) -> bool:
        """The store authenticates each entry (the Kafka key registry), not whole documents."""
        return bool(getattr(self.store, "entry_authenticated", False))

    def reload_if_changed(self) -> None:
        """Read the store again when another process (or thread) changed it."""
        if self.document is None or self.store.signature() != self.signature:
            self.install(*self.store.read())

    def install(self, document: KeyringDocument, signature: Hashable) -> None:
        """Take ``document`` (read with ``signature``) as the current one, once checked."""
        old = self.document
        if old is None or old.kek != document.kek or old.index_key != document.index_key:
            self._unlock(document)
        self._verify(document)
        by_id = {k.id: k for k in document.keys}
        latest: dict[Slot, KeyRecord] = {}
        self.forgotten = {
            (k.owner, k.subject) for k in document.keys
            if k.subject is not None and k.state is KeyState.DESTROYED
        }  # fmt: skip
        for record in document.keys:
            slot = record.slot
            have = latest.get(slot)
            if have is None or record.version > have.version:
                latest[slot] = record
        for key_id in list(self.cache):
            before, after = self.by_id.get(key_id), by_id.get(key_id)
            if before is not after and before != after:
                del self.cache[key_id]
        self.document, self.by_id, self.latest = document, by_id, latest
        self.generation = document.generation
        self.signature = signature

    def write(self, document: KeyringDocument) -> None:
        """Write a changed ``document`` and take it as current: sealed under the MAC key
        for a document store; entry by entry and read back for an entry store, whose
        log order decides (first writer wins)."""
        if self.entry_store:
            self.store.write(document)
            self.install(*self.store.read())
        else:
            document = seal_document(document, self.mac_key)
            self.install(document, self.store.write(document))

    def _verify(self, document: KeyringDocument) -> None:
        if self.entry_store:
            return  # the store refuses entries that fail their own MAC
        file = getattr(self.store, "path", None)
        seen = self.generation
        if self._watermark is not None:
            seen = max(seen, self._watermark.seen(document.kek.id))
        verify_document(document, self.mac_key, seen, file=file)
        if self._watermark is not None:
            self._watermark.record(document.kek.id, document.generation)

    def _unlock(self, document: KeyringDocument) -> None:
        provider = self.given_provider or fallback_provider(
            document, self._external_kek, getattr(self.store, "path", None)
        )
        aad = index_key_aad(document.kek.id)
        candidates = [(DEFAULT_KEK, document.index_kek_version, document.index_key)]
        candidates += [(n, i.kek_version, i.wrapped) for n, i in document.index_keys.items()]
        index_key, why = None, ""
        for name, version, wrapped in candidates:
            try:
                index_key = provider.unwrap(name, version, b64url_decode(wrapped), aad)
                break
            except KeyAccessError as exc:
                why = why or f": {exc.message}"
            except ValueError:
                continue
        if index_key is None:
            raise KeyAccessError(f"the key-encryption key does not unlock this keyring{why}")
        self.kek_provider, self.index_key = provider, index_key
        self.mac_key = mac_key(index_key)
        if self.entry_store:
            self.store.use_mac_key(self.mac_key)  # type: ignore[attr-defined]
        self.cache.clear()

    def unwrap(self, record: KeyRecord) -> DataKey:
        """The data key of ``record``, from the cache or unwrapped by the KEK provider."""
        if record.state is KeyState.DESTROYED or record.wrapped is None:
            raise KeyDestroyedError("data key was destroyed", key_id=record.id)
        cached = self.cache.get(record.id)
        if cached is not None:
            self.cache.move_to_end(record.id)
            return cached
        material = self.unwrap_material(record)
        key = DataKey(record.info(), material)
        self.cache[record.id] = key
        while len(self.cache) > self._cache_size:
            self.cache.popitem(last=False)
        return key

    def unwrap_material(self, record: KeyRecord) -> bytes:
        """The material of ``record`` unwrapped now (not cached)."""
        assert self.kek_provider is not None
        return unwrap_record(record, self.kek_provider)
