"""The local keyring: envelope encryption of data keys under a key-encryption key.

:class:`Keyring` implements :class:`~streamsec.crypto.provider.KeyProvider` over a
:class:`~streamsec.crypto.keyfile.KeyringStore`. Data keys are stored wrapped by
the KEK and unwrapped on first use into a bounded in-memory LRU cache, so
per-value encryption never touches the file. Changes made by another process
(rotation, destruction) are picked up without restart: the store signature (file
inode, mtime, size) is checked at most once per ``refresh_interval`` seconds, and
at once when an unknown key id is asked for.

Thread-safe; safe across processes sharing one file (see ``keyfile``). Every
document is authenticated (``streamsec.crypto.integrity``).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from streamsec.crypto.aad import encode_fields, index_key_aad
from streamsec.crypto.bulk import bulk_load
from streamsec.crypto.envelope import b64url_decode
from streamsec.crypto.integrity import GenerationWatermark, mac_key, seal_document, verify_document
from streamsec.crypto.keyfile import KeyRecord, KeyringDocument, KeyringStore
from streamsec.crypto.keys import DataKey, KeyInfo, KeyPurpose, KeyState
from streamsec.crypto.providers.base import DEFAULT_KEK, KekProvider
from streamsec.crypto.providers.local import fallback_provider
from streamsec.crypto.wrapping import (
    destroyed_record,
    new_record,
    retired,
    unwrap_record,
    with_index_keys,
    with_keys,
)
from streamsec.errors import KeyAccessError, KeyDestroyedError, KeyNotFoundError

__all__ = ["Keyring"]

log = logging.getLogger(__name__)
T = TypeVar("T")
Slot = tuple[str, KeyPurpose, str | None, str]
"""``(owner, purpose, subject hash, KEK name)``."""
_SUBJECT_PURPOSES = (KeyPurpose.ENCRYPT, KeyPurpose.DETERMINISTIC)


class Keyring:
    """A :class:`KeyProvider` backed by a keyring document.

    ``kek_provider``: who wraps and unwraps data keys (HSM, KMS, local file).
    ``kek``: instead, one fixed key-encryption key (``STREAMSEC_KEK``); when both
    are ``None`` a legacy KEK kept in the document is used. A KEK that does not
    unlock the document, or a document whose MAC or generation does not check,
    raises :class:`KeyAccessError`.
    """

    def __init__(
        self,
        store: KeyringStore,
        *,
        kek: bytes | None = None,
        kek_provider: KekProvider | None = None,
        refresh_interval: float = 1.0,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
        watermark: GenerationWatermark | None = None,
    ) -> None:
        self._store = store
        self._closed = False
        self._watermark = watermark
        self._external_kek = kek
        self._given_provider = kek_provider
        self._kek_provider: KekProvider | None = kek_provider
        self._mac_key = b""
        self._generation = -1
        self._refresh_interval = refresh_interval
        self._cache_size = cache_size
        self._clock = clock
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, DataKey] = OrderedDict()
        self._index_key = b""
        self._document: KeyringDocument | None = None
        self._by_id: dict[str, KeyRecord] = {}
        self._latest: dict[Slot, KeyRecord] = {}
        self._forgotten: set[tuple[str, str]] = set()
        self._pending: list[KeyRecord] = []
        self.listeners: list[Callable[[str, list[KeyInfo]], None]] = []
        """Called after every committed change: ``created`` | ``rotated`` | ``destroyed``
        and the key versions concerned (:mod:`streamsec.events.key_audit`)."""
        self._signature: Hashable = None
        self._checked = clock()
        with self._lock, bulk_load():
            self._install(*store.read())
            if self._entry_store:  # entries are checked once the MAC key is known
                self._install(*store.read())

    def __repr__(self) -> str:
        return f"Keyring(store={self._store!r}, keys={len(self._by_id)})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a keyring holds key material and cannot be pickled")

    def close(self) -> None:
        """Release the store (a Kafka registry's follower thread and clients) and the
        KEK provider's sessions. Idempotent; the keyring is not used afterwards."""
        if self._closed:
            return
        self._closed = True
        for part in (self._store, self._given_provider):
            closer = getattr(part, "close", None)
            if callable(closer):
                closer()

    def __enter__(self) -> Keyring:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- KeyProvider ------------------------------------------------------------

    def current_key(
        self, owner: str, purpose: KeyPurpose, subject: str | None = None, *,
        kek: str = DEFAULT_KEK,
    ) -> DataKey:
        slot = self._slot(owner, purpose, subject, kek)
        with self._lock:
            self._refresh()
            record = self._latest.get(slot)
            if record is None:
                self._refuse_forgotten(slot)
                record = self._mutate(lambda doc: self._ensure(doc, slot))
            return self._unwrap(record)

    def ensure_keys(
        self, owner: str, slots: Iterable[tuple[KeyPurpose, str | None]], *,
        kek: str = DEFAULT_KEK,
    ) -> None:
        """Create every missing slot in one locked read-modify-write of the store (the
        file keyring rewrites its file per change, so a batch's new subjects cost one
        write, not one each). A destroyed subject stays destroyed (its tombstone counts)."""
        wanted = {self._slot(owner, purpose, subject, kek) for purpose, subject in slots}
        with self._lock:
            self._refresh()
            if all(slot in self._latest for slot in wanted):
                return
            for slot in wanted:
                self._refuse_forgotten(slot)
            self._mutate(lambda doc: self._add_first_versions(doc, wanted))

    def key_by_id(self, key_id: str) -> DataKey:
        with self._lock:
            self._refresh()
            return self._unwrap(self._known(key_id))

    def key_info(self, key_id: str) -> KeyInfo:
        """Metadata of one version (its KEK name included) without releasing the key."""
        with self._lock:
            return self._known(key_id).info()

    def _known(self, key_id: str) -> KeyRecord:
        """The version ``key_id`` (the file read again once if it is not known yet);
        the caller holds the lock."""
        record = self._by_id.get(key_id)
        if record is None:
            self._refresh(force=True)
            record = self._by_id.get(key_id)
        if record is None:
            raise KeyNotFoundError("no such data key", key_id=key_id)
        return record

    def rotate(
        self, owner: str, purpose: KeyPurpose, subject: str | None = None, *,
        kek: str = DEFAULT_KEK,
    ) -> KeyInfo:
        slot = self._slot(owner, purpose, subject, kek)
        with self._lock:
            return self._mutate(lambda doc: self._add_version(doc, slot), "rotated").info()

    def destroy(self, key_id: str) -> KeyInfo:
        def change(doc: KeyringDocument) -> tuple[KeyringDocument, KeyInfo]:
            found = [k for k in doc.keys if k.id == key_id]
            if not found:
                raise KeyNotFoundError("no such data key", key_id=key_id)
            if found[0].state is KeyState.DESTROYED:
                return doc, found[0].info()
            gone = destroyed_record(found[0])
            log.warning("destroyed data key id=%s owner=%s", key_id, gone.owner)
            keys = tuple(gone if k.id == key_id else k for k in doc.keys)
            return doc.model_copy(update={"keys": keys}), gone.info()

        with self._lock:
            return self._mutate(change, "destroyed")

    def destroy_subject(self, owner: str, subject: str) -> list[KeyInfo]:
        hashed = self.subject_hash(owner, subject)

        def change(doc: KeyringDocument) -> tuple[KeyringDocument, list[KeyInfo]]:
            mine = (owner, hashed)
            keys = [destroyed_record(k) if (k.owner, k.subject) == mine else k for k in doc.keys]
            # Tombstones: a forgotten subject stays forgotten, even for purposes never used.
            for purpose in _SUBJECT_PURPOSES:
                if not any(k.slot == (owner, purpose, hashed, DEFAULT_KEK) for k in keys):
                    first = self._record((owner, purpose, hashed, DEFAULT_KEK), 1)
                    keys.append(destroyed_record(first))
            gone = [k.info() for k in keys if (k.owner, k.subject) == mine]
            log.warning("crypto-shredded %d key(s) of one subject of owner=%s", len(gone), owner)
            return doc.model_copy(update={"keys": tuple(keys)}), gone

        with self._lock:
            return self._mutate(change, "destroyed")

    def list_keys(self, owner: str | None = None) -> list[KeyInfo]:
        with self._lock:
            self._refresh(force=True)
            records = [r for r in self._by_id.values() if owner is None or r.owner == owner]
        records.sort(key=lambda r: (r.owner, r.purpose, r.subject or "", r.version))
        return [r.info() for r in records]

    # --- helpers ----------------------------------------------------------------

    def subject_hash(self, owner: str, subject: str) -> str:
        """Keyed hash naming a data subject's keys; the subject id itself is never stored."""
        mac = hmac.new(self._index_key, encode_fields("ssec-subject", owner, subject), "sha256")
        return mac.hexdigest()[:32]

    def _slot(self, owner: str, purpose: KeyPurpose, subject: str | None, kek: str) -> Slot:
        if not owner:
            raise KeyAccessError("a key owner (topology name) is required")
        purpose = KeyPurpose(purpose)
        hashed = None if subject is None else self.subject_hash(owner, subject)
        return (owner, purpose, hashed, kek)

    def _refuse_forgotten(self, slot: Slot) -> None:
        """A crypto-shredded subject gets no first key under any other KEK name either."""
        owner, _, hashed, _ = slot
        if hashed is not None and (owner, hashed) in self._forgotten and slot not in self._latest:
            raise KeyDestroyedError("the data subject was forgotten (its keys were destroyed)")

    def _refresh(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._checked < self._refresh_interval:
            return
        self._checked = now
        if self._store.signature() != self._signature:
            self._install(*self._store.read())

    def _install(self, document: KeyringDocument, signature: Hashable) -> None:
        old = self._document
        if old is None or old.kek != document.kek or old.index_key != document.index_key:
            self._unlock(document)
        self._verify(document)
        by_id = {k.id: k for k in document.keys}
        latest: dict[Slot, KeyRecord] = {}
        self._forgotten = {
            (k.owner, k.subject) for k in document.keys
            if k.subject is not None and k.state is KeyState.DESTROYED
        }  # fmt: skip
        for record in document.keys:
            slot = record.slot
            have = latest.get(slot)
            if have is None or record.version > have.version:
                latest[slot] = record
        for key_id in list(self._cache):
            before, after = self._by_id.get(key_id), by_id.get(key_id)
            if before is not after and before != after:
                del self._cache[key_id]
        self._document, self._by_id, self._latest = document, by_id, latest
        self._generation = document.generation
        self._signature = signature

    @property
    def _entry_store(self) -> bool:
        return bool(getattr(self._store, "entry_authenticated", False))

    def _verify(self, document: KeyringDocument) -> None:
        if self._entry_store:
            return  # the store refuses entries that fail their own MAC
        file = getattr(self._store, "path", None)
        seen = self._generation
        if self._watermark is not None:
            seen = max(seen, self._watermark.seen(document.kek.id))
        verify_document(document, self._mac_key, seen, file=file)
        if self._watermark is not None:
            self._watermark.record(document.kek.id, document.generation)

    def _unlock(self, document: KeyringDocument) -> None:
        provider = self._given_provider or fallback_provider(
            document, self._external_kek, getattr(self._store, "path", None)
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
        self._kek_provider, self._index_key = provider, index_key
        self._mac_key = mac_key(index_key)
        if self._entry_store:
            self._store.use_mac_key(self._mac_key)  # type: ignore[attr-defined]
        self._cache.clear()

    def _mutate(
        self, change: Callable[[KeyringDocument], tuple[KeyringDocument, T]],
        kind: str = "created",
    ) -> T:
        self._pending = []
        with self._store.lock():
            if self._document is None or self._store.signature() != self._signature:
                self._install(*self._store.read())  # another process changed it
            assert self._document is not None
            document, result = change(self._document)
            if document is not self._document:
                if self._entry_store:  # the log order decides (first writer wins)
                    self._store.write(document)
                    self._install(*self._store.read())
                    if any(r.id not in self._by_id for r in self._pending):
                        raise KeyDestroyedError("the data subject was forgotten meanwhile")
                else:
                    document = seal_document(document, self._mac_key)
                    self._install(document, self._store.write(document))
            self._checked = self._clock()
        created, self._pending = self._pending, []
        infos: list[KeyInfo] = [r.info() for r in created]
        if kind == "destroyed":  # the result: the destroyed versions
            infos = list(result) if isinstance(result, list) else [result]  # type: ignore[list-item]
        for listener in self.listeners if infos else ():  # after the write: what happened
            listener(kind, infos)
        return result

    def _ensure(self, doc: KeyringDocument, slot: Slot) -> tuple[KeyringDocument, KeyRecord]:
        found = self._latest.get(slot)  # freshly re-read under the lock
        if found is not None:
            return doc, found
        return self._add_version(doc, slot)

    def _add_first_versions(
        self, doc: KeyringDocument, slots: Iterable[Slot]
    ) -> tuple[KeyringDocument, None]:
        missing = [s for s in slots if s not in self._latest]
        if not missing:  # another process created them meanwhile
            return doc, None
        records = [self._record(slot, 1) for slot in missing]
        log.info("created %d data key(s) of owner=%s", len(records), missing[0][0])
        doc = self._with_index(doc, {slot[3] for slot in missing})
        return with_keys(doc, (*doc.keys, *records)), None

    def _add_version(self, doc: KeyringDocument, slot: Slot) -> tuple[KeyringDocument, KeyRecord]:
        previous = self._latest.get(slot)
        record = self._record(slot, 1 if previous is None else previous.version + 1)
        doc = self._with_index(doc, {slot[3]})
        keys = retired(doc.keys, slot)
        log.info("created data key id=%s owner=%s purpose=%s version=%d%s", record.id, slot[0],
                 slot[1], record.version, " (per-subject)" if slot[2] else "")  # fmt: skip
        return with_keys(doc, (*keys, record)), record

    def _with_index(self, doc: KeyringDocument, keks: set[str]) -> KeyringDocument:
        assert self._kek_provider is not None
        return with_index_keys(doc, keks, self._kek_provider, self._index_key)

    def _record(self, slot: Slot, version: int) -> KeyRecord:
        assert self._kek_provider is not None
        record = new_record(slot, version, self._kek_provider, taken=self._by_id)
        self._pending.append(record)
        return record

    def _unwrap(self, record: KeyRecord) -> DataKey:
        if record.state is KeyState.DESTROYED or record.wrapped is None:
            raise KeyDestroyedError("data key was destroyed", key_id=record.id)
        cached = self._cache.get(record.id)
        if cached is not None:
            self._cache.move_to_end(record.id)
            return cached
        material = self._unwrap_material(record)
        key = DataKey(record.info(), material)
        self._cache[record.id] = key
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return key

    def _unwrap_material(self, record: KeyRecord) -> bytes:
        assert self._kek_provider is not None
        return unwrap_record(record, self._kek_provider)
