"""The changes a keyring makes to its document: new key versions, destruction.

Each method takes the document just read under the store's lock and returns the
changed document and a result, the shape :meth:`Keyring._mutate
<streamsec.crypto.keyring.Keyring>` applies. New data keys are made and wrapped by
the KEK provider of the :class:`~streamsec.crypto.keyring_state.KeyringState`
(:mod:`streamsec.crypto.wrapping`); :attr:`KeyringEdits.created` collects them
for the keyring's change listeners.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from streamsec.crypto.keyfile import KeyRecord, KeyringDocument, Slot
from streamsec.crypto.keyring_state import KeyringState
from streamsec.crypto.keys import KeyInfo, KeyPurpose, KeyState
from streamsec.crypto.providers.base import DEFAULT_KEK
from streamsec.crypto.wrapping import (
    destroyed_record,
    new_record,
    retired,
    with_index_keys,
    with_keys,
)
from streamsec.errors import KeyNotFoundError

__all__ = ["KeyringEdits"]

log = logging.getLogger("streamsec.crypto.keyring")  # the keyring's own log lines
_SUBJECT_PURPOSES = (KeyPurpose.ENCRYPT, KeyPurpose.DETERMINISTIC)


class KeyringEdits:
    """Document changes over ``state`` (its latest versions and KEK provider)."""

    def __init__(self, state: KeyringState) -> None:
        self._state = state
        self.created: list[KeyRecord] = []
        """Versions made since the keyring last emptied it (tombstones included)."""

    def ensure(self, doc: KeyringDocument, slot: Slot) -> tuple[KeyringDocument, KeyRecord]:
        """The current version of ``slot``, made first if there is none yet."""
        found = self._state.latest.get(slot)  # freshly re-read under the lock
        if found is not None:
            return doc, found
        return self.add_version(doc, slot)

    def add_first_versions(
        self, doc: KeyringDocument, slots: Iterable[Slot]
    ) -> tuple[KeyringDocument, None]:
        """A first version of every slot in ``slots`` that has none."""
        missing = [s for s in slots if s not in self._state.latest]
        if not missing:  # another process created them meanwhile
            return doc, None
        records = [self._record(slot, 1) for slot in missing]
        log.info("created %d data key(s) of owner=%s", len(records), missing[0][0])
        doc = self._with_index(doc, {slot[3] for slot in missing})
        return with_keys(doc, (*doc.keys, *records)), None

    def add_version(self, doc: KeyringDocument, slot: Slot) -> tuple[KeyringDocument, KeyRecord]:
        """A new active version of ``slot``; the one before it is retired."""
        previous = self._state.latest.get(slot)
        record = self._record(slot, 1 if previous is None else previous.version + 1)
        doc = self._with_index(doc, {slot[3]})
        keys = retired(doc.keys, slot)
        log.info("created data key id=%s owner=%s purpose=%s version=%d%s", record.id, slot[0],
                 slot[1], record.version, " (per-subject)" if slot[2] else "")  # fmt: skip
        return with_keys(doc, (*keys, record)), record

    @staticmethod
    def destroy(doc: KeyringDocument, key_id: str) -> tuple[KeyringDocument, KeyInfo]:
        """Version ``key_id`` crypto-shredded (already destroyed: unchanged)."""
        found = [k for k in doc.keys if k.id == key_id]
        if not found:
            raise KeyNotFoundError("no such data key", key_id=key_id)
        if found[0].state is KeyState.DESTROYED:
            return doc, found[0].info()
        gone = destroyed_record(found[0])
        log.warning("destroyed data key id=%s owner=%s", key_id, gone.owner)
        keys = tuple(gone if k.id == key_id else k for k in doc.keys)
        return doc.model_copy(update={"keys": keys}), gone.info()

    def destroy_subject(
        self, doc: KeyringDocument, owner: str, hashed: str
    ) -> tuple[KeyringDocument, list[KeyInfo]]:
        """Every key of the subject hashed ``hashed`` crypto-shredded, with tombstones."""
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

    def _with_index(self, doc: KeyringDocument, keks: set[str]) -> KeyringDocument:
        assert self._state.kek_provider is not None
        return with_index_keys(doc, keks, self._state.kek_provider, self._state.index_key)

    def _record(self, slot: Slot, version: int) -> KeyRecord:
        assert self._state.kek_provider is not None
        record = new_record(slot, version, self._state.kek_provider, taken=self._state.by_id)
        self.created.append(record)
        return record
