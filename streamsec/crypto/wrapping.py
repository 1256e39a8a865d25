"""Wrapping data keys and the index key through a :class:`KekProvider` (keyring helpers)."""

from __future__ import annotations

import os
from collections.abc import Container

from streamsec.crypto.aad import index_key_aad, wrapped_key_aad
from streamsec.crypto.envelope import b64url_decode, b64url_encode
from streamsec.crypto.keyfile import IndexKey, KeyRecord, KeyringDocument, Slot, WrappedCopy
from streamsec.crypto.keys import KEY_SIZES, KeyState, new_key_id, utc_now
from streamsec.crypto.providers.base import DEFAULT_KEK, KekProvider
from streamsec.crypto.readers import parse_label, provider_keks, role_kek
from streamsec.errors import KeyAccessError

__all__ = [
    "destroyed_record",
    "key_aad",
    "new_record",
    "retired",
    "unwrap_record",
    "with_index_keys",
    "with_keys",
]


def with_index_keys(
    doc: KeyringDocument, keks: set[str], provider: KekProvider, index_key: bytes
) -> KeyringDocument:
    """The index key wrapped by each new KEK name too, so a holder of that KEK only
    can check the store's MAC and name subjects. ``keks`` are slot labels: a reader
    set (:mod:`streamsec.crypto.readers`) stands for ``all`` and each reader's KEK."""
    names = set().union(*(provider_keks(label) for label in keks)) if keks else set()
    new = names - {DEFAULT_KEK} - set(doc.index_keys)
    if not new:
        return doc
    index_keys = dict(doc.index_keys)
    for name in sorted(new):
        version, wrapped = provider.wrap(name, index_key, index_key_aad(doc.kek.id))
        index_keys[name] = IndexKey(wrapped=b64url_encode(wrapped), kek_version=version)
    return doc.model_copy(update={"index_keys": index_keys})


def new_record(
    slot: Slot, version: int, provider: KekProvider, *, taken: Container[str]
) -> KeyRecord:
    """A fresh random data key for ``slot``, wrapped by the slot's KEK (for a reader
    set: by ``all`` and again by each reader's KEK, all under the same associated data,
    which names the key id, so no copy can be moved to another entry)."""
    owner, purpose, subject, label = slot
    kek, readers = parse_label(label)
    key_id = new_key_id()
    while key_id in taken:
        key_id = new_key_id()
    aad = wrapped_key_aad(
        key_id=key_id, purpose=purpose, owner=owner, subject=subject, version=version
    )
    material = os.urandom(KEY_SIZES[purpose])
    kek_version, wrapped = provider.wrap(kek, material, aad)
    copies = {}
    for role in readers or ():
        copy_version, copy = provider.wrap(role_kek(role), material, aad)
        copies[role_kek(role)] = WrappedCopy(wrapped=b64url_encode(copy), kek_version=copy_version)
    return KeyRecord(
        id=key_id, purpose=purpose, owner=owner, subject=subject, version=version,
        state=KeyState.ACTIVE, created=utc_now(), wrapped=b64url_encode(wrapped),
        kek=kek, kek_version=kek_version, readers=readers, copies=copies or None,
    )  # fmt: skip


def key_aad(record: KeyRecord) -> bytes:
    """The associated data every wrapped copy of ``record`` is sealed with."""
    return wrapped_key_aad(
        key_id=record.id, purpose=record.purpose, owner=record.owner,
        subject=record.subject, version=record.version,
    )  # fmt: skip


def unwrap_record(record: KeyRecord, provider: KekProvider) -> bytes:
    """The data key's material; :class:`KeyAccessError` (with its id) when the provider
    refuses (no access to its KEK, destroyed KEK version) or the entry was tampered.
    A role-separated key is tried under ``all`` (the workers, which create keys and
    must not pay a refusal per new key), then under each reader's KEK: the provider
    releases it to whoever holds one of them, and to nobody else."""
    if record.wrapped is None:
        raise KeyAccessError("data key was destroyed", key_id=record.id)
    aad = key_aad(record)
    tries = [(record.kek, record.kek_version, record.wrapped)]
    tries += [(n, c.kek_version, c.wrapped) for n, c in (record.copies or {}).items()]
    material: bytes | None = None
    for name, version, wrapped in tries:
        try:
            material = provider.unwrap(name, version, b64url_decode(wrapped), aad)
            break
        except (KeyAccessError, ValueError):
            continue
    if material is None or len(material) != KEY_SIZES[record.purpose]:
        raise KeyAccessError(
            "cannot unwrap data key: no access to its key-encryption key, or tampered keyring",
            key_id=record.id,
        )
    return material


def destroyed_record(record: KeyRecord) -> KeyRecord:
    """``record`` crypto-shredded: every wrapped copy is gone with it."""
    return record.model_copy(
        update={"state": KeyState.DESTROYED, "wrapped": None, "copies": None,
                "destroyed": utc_now()}
    )  # fmt: skip


def with_keys(doc: KeyringDocument, keys: tuple[KeyRecord, ...]) -> KeyringDocument:
    """``doc`` holding ``keys``; format 2 once one of them is role-separated (older
    versions of streamsec then refuse the store rather than misread it)."""
    update: dict[str, object] = {"keys": keys}
    if doc.format_version < 2 and any(k.readers is not None for k in keys):
        update["format_version"] = 2
    return doc.model_copy(update=update)


def retired(keys: tuple[KeyRecord, ...], slot: tuple[object, ...]) -> list[KeyRecord]:
    """``keys`` with the active version of ``slot`` retired (a new one takes its place)."""
    return [
        k.model_copy(update={"state": KeyState.RETIRED})
        if k.slot == slot and k.state is KeyState.ACTIVE else k
        for k in keys
    ]
