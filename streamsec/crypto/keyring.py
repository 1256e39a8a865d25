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

This module holds the policy: slots and subject hashes, when to re-read the store,
committing a change under the store's lock and telling the listeners. What the
keyring holds of its store (authenticated document, index key, unwrapped-key cache)
is :class:`~streamsec.crypto.keyring_state.KeyringState`; the document changes
themselves are :class:`~streamsec.crypto.keyring_edits.KeyringEdits`.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from streamsec.crypto.aad import encode_fields
from streamsec.crypto.bulk import bulk_load
from streamsec.crypto.integrity import GenerationWatermark
from streamsec.crypto.keyfile import KeyRecord, KeyringDocument, KeyringStore, Slot
from streamsec.crypto.keyring_edits import KeyringEdits
from streamsec.crypto.keyring_state import KeyringState
from streamsec.crypto.keys import DataKey, KeyInfo, KeyPurpose
from streamsec.crypto.providers.base import DEFAULT_KEK, KekProvider
from streamsec.errors import KeyAccessError, KeyDestroyedError, KeyNotFoundError

__all__ = ["Keyring", "close_parts"]

T = TypeVar("T")


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
        self._state = KeyringState(
            store, kek=kek, kek_provider=kek_provider, cache_size=cache_size, watermark=watermark
        )
        self._closed = False
        self._refresh_interval = refresh_interval
        self._clock = clock
        self._lock = threading.RLock()
        self._edits = KeyringEdits(self._state)
        self.listeners: list[Callable[[str, list[KeyInfo]], None]] = []
        """Called after every committed change: ``created`` | ``rotated`` | ``destroyed``
        and the key versions concerned (:mod:`streamsec.events.key_audit`)."""
        self._checked = clock()
        with self._lock, bulk_load():
            self._state.install(*store.read())
            if self._state.entry_store:  # entries are checked once the MAC key is known
                self._state.install(*store.read())

    def __repr__(self) -> str:
        return f"Keyring(store={self._state.store!r}, keys={len(self._state.by_id)})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a keyring holds key material and cannot be pickled")

    def close(self) -> None:
        """Release the store (a Kafka registry's follower thread and clients) and the
        KEK provider's sessions. Idempotent; the keyring is not used afterwards."""
        if self._closed:
            return
        self._closed = True
        close_parts(self._state.store, self._state.given_provider)

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
            record = self._state.latest.get(slot)
            if record is None:
                self._refuse_forgotten(slot)
                record = self._mutate(lambda doc: self._edits.ensure(doc, slot))
            return self._state.unwrap(record)

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
            if all(slot in self._state.latest for slot in wanted):
                return
            for slot in wanted:
                self._refuse_forgotten(slot)
            self._mutate(lambda doc: self._edits.add_first_versions(doc, wanted))

    def key_by_id(self, key_id: str) -> DataKey:
        with self._lock:
            self._refresh()
            return self._state.unwrap(self._known(key_id))

    def key_info(self, key_id: str) -> KeyInfo:
        """Metadata of one version (its KEK name included) without releasing the key."""
        with self._lock:
            return self._known(key_id).info()

    def _known(self, key_id: str) -> KeyRecord:
        """The version ``key_id`` (the file read again once if it is not known yet);
        the caller holds the lock."""
        record = self._state.by_id.get(key_id)
        if record is None:
            self._refresh(force=True)
            record = self._state.by_id.get(key_id)
        if record is None:
            raise KeyNotFoundError("no such data key", key_id=key_id)
        return record

    def rotate(
        self, owner: str, purpose: KeyPurpose, subject: str | None = None, *,
        kek: str = DEFAULT_KEK,
    ) -> KeyInfo:
        slot = self._slot(owner, purpose, subject, kek)
        with self._lock:
            return self._mutate(lambda doc: self._edits.add_version(doc, slot), "rotated").info()

    def destroy(self, key_id: str) -> KeyInfo:
        with self._lock:
            return self._mutate(lambda doc: self._edits.destroy(doc, key_id), "destroyed")

    def destroy_subject(self, owner: str, subject: str) -> list[KeyInfo]:
        hashed = self.subject_hash(owner, subject)
        with self._lock:
            return self._mutate(
                lambda doc: self._edits.destroy_subject(doc, owner, hashed), "destroyed"
            )

    def list_keys(self, owner: str | None = None) -> list[KeyInfo]:
        with self._lock:
            self._refresh(force=True)
            records = [r for r in self._state.by_id.values() if owner is None or r.owner == owner]
        records.sort(key=lambda r: (r.owner, r.purpose, r.subject or "", r.version))
        return [r.info() for r in records]

    # --- helpers ----------------------------------------------------------------

    def subject_hash(self, owner: str, subject: str) -> str:
        """Keyed hash naming a data subject's keys; the subject id itself is never stored."""
        fields = encode_fields("ssec-subject", owner, subject)
        return hmac.new(self._state.index_key, fields, "sha256").hexdigest()[:32]

    def _slot(self, owner: str, purpose: KeyPurpose, subject: str | None, kek: str) -> Slot:
        if not owner:
            raise KeyAccessError("a key owner (topology name) is required")
        if type(purpose) is not KeyPurpose:  # a member is itself (skip the enum call)
            purpose = KeyPurpose(purpose)
        hashed = None if subject is None else self.subject_hash(owner, subject)
        return (owner, purpose, hashed, kek)

    def _refuse_forgotten(self, slot: Slot) -> None:
        """A crypto-shredded subject gets no first key under any other KEK name either."""
        owner, _, hashed, _ = slot
        state = self._state
        if hashed is not None and (owner, hashed) in state.forgotten and slot not in state.latest:
            raise KeyDestroyedError("the data subject was forgotten (its keys were destroyed)")

    def _refresh(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._checked < self._refresh_interval:
            return
        self._checked = now
        self._state.reload_if_changed()

    def _mutate(
        self, change: Callable[[KeyringDocument], tuple[KeyringDocument, T]],
        kind: str = "created",
    ) -> T:
        self._edits.created = []
        state = self._state
        with state.store.lock():
            state.reload_if_changed()  # another process changed it
            assert state.document is not None
            document, result = change(state.document)
            if document is not state.document:
                state.write(document)
                if state.entry_store and any(r.id not in state.by_id for r in self._edits.created):
                    raise KeyDestroyedError("the data subject was forgotten meanwhile")
            self._checked = self._clock()
        created, self._edits.created = self._edits.created, []
        infos: list[KeyInfo] = [r.info() for r in created]
        if kind == "destroyed":  # the result: the destroyed versions
            infos = list(result) if isinstance(result, list) else [result]  # type: ignore[list-item]
        for listener in self.listeners if infos else ():  # after the write: what happened
            listener(kind, infos)
        return result


def close_parts(*parts: object) -> None:
    """Close each of ``parts`` that can be closed (a key store, a KEK provider)."""
    for part in parts:
        closer = getattr(part, "close", None)
        if callable(closer):
            closer()
