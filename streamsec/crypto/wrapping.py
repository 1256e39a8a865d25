"""Wrapping data keys and the index key through a :class:`KekProvider` (keyring helpers)."""

from __future__ import annotations

import os
from collections.abc import Container
from typing import TYPE_CHECKING

from streamsec.crypto.aad import index_key_aad, wrapped_key_aad
from streamsec.crypto.envelope import b64url_decode, b64url_encode
from streamsec.crypto.keyfile import IndexKey, KeyRecord, KeyringDocument
from streamsec.crypto.keys import KEY_SIZES, KeyPurpose, KeyState, new_key_id, utc_now
from streamsec.crypto.providers.base import DEFAULT_KEK, KekProvider
from streamsec.errors import KeyAccessError

if TYPE_CHECKING:
    Slot = tuple[str, KeyPurpose, str | None, str]

__all__ = ["new_record", "unwrap_record", "with_index_keys"]


def with_index_keys(
    doc: KeyringDocument, keks: set[str], provider: KekProvider, index_key: bytes
) -> KeyringDocument:
    """The index key wrapped by each new KEK name too, so a holder of that KEK only
    can check the store's MAC and name subjects."""
    new = keks - {DEFAULT_KEK} - set(doc.index_keys)
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
    """A fresh random data key for ``slot``, wrapped by the slot's KEK."""
    owner, purpose, subject, kek = slot
    key_id = new_key_id()
    while key_id in taken:
        key_id = new_key_id()
    aad = wrapped_key_aad(
        key_id=key_id, purpose=purpose, owner=owner, subject=subject, version=version
    )
    kek_version, wrapped = provider.wrap(kek, os.urandom(KEY_SIZES[purpose]), aad)
    return KeyRecord(
        id=key_id, purpose=purpose, owner=owner, subject=subject, version=version,
        state=KeyState.ACTIVE, created=utc_now(), wrapped=b64url_encode(wrapped),
        kek=kek, kek_version=kek_version,
    )  # fmt: skip


def unwrap_record(record: KeyRecord, provider: KekProvider) -> bytes:
    """The data key's material; :class:`KeyAccessError` (with its id) when the provider
    refuses (no access to its KEK, destroyed KEK version) or the entry was tampered."""
    if record.wrapped is None:
        raise KeyAccessError("data key was destroyed", key_id=record.id)
    aad = wrapped_key_aad(
        key_id=record.id, purpose=record.purpose, owner=record.owner,
        subject=record.subject, version=record.version,
    )  # fmt: skip
    try:
        material: bytes | None = provider.unwrap(
            record.kek, record.kek_version, b64url_decode(record.wrapped), aad
        )
    except (KeyAccessError, ValueError):
        material = None
    if material is None or len(material) != KEY_SIZES[record.purpose]:
        raise KeyAccessError(
            "cannot unwrap data key: no access to its key-encryption key, or tampered keyring",
            key_id=record.id,
        )
    return material
