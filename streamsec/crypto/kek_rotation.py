"""``streamsec keys rotate-kek``: wrap every data key again under a new KEK version,
then destroy the old versions in the provider.

1. The provider makes a new version of every KEK name the key store uses (under
   ``key_separation: role`` also every reader role's KEK).
2. Under the key-store lock, every data key that is not destroyed, and the index
   key, is unwrapped with its old version and wrapped with the new one (every
   wrapped copy of it: one per reader role under role separation); the store
   is written once (authenticated, next generation). A process that creates keys
   meanwhile waits for the lock, and wraps under the new version after it.
3. Only then are the old versions destroyed in the provider (HSM object deleted,
   Transit versions trimmed, KMS key scheduled for deletion). From then on no copy
   of the key store taken before the rotation unwraps anything.

Nothing here ever holds KEK material; data keys are unwrapped one at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from streamsec.crypto.aad import index_key_aad
from streamsec.crypto.envelope import b64url_encode
from streamsec.crypto.keyfile import IndexKey, KeyRecord, KeyringDocument, WrappedCopy
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.providers.base import DEFAULT_KEK
from streamsec.crypto.wrapping import key_aad
from streamsec.errors import KeyAccessError

__all__ = ["KekRotation", "keks_in_use", "rotate_kek"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KekRotation:
    rewrapped: int
    """Data keys wrapped again (destroyed ones have nothing to wrap)."""
    new_versions: dict[str, str]
    destroyed: list[tuple[str, str]] = field(default_factory=list)
    """``(KEK name, version)`` destroyed in the provider."""


def _rewrap_record(
    ring: Keyring, record: KeyRecord, current: dict[str, str], old: set[tuple[str, str]]
) -> KeyRecord:
    """``record`` with its wrapped copy (and each reader's copy, under role separation)
    wrapped under the current KEK versions; the versions left behind go into ``old``."""
    copies = dict(record.copies or {})
    stale = {n: c for n, c in copies.items() if c.kek_version != current.get(n)}
    if record.wrapped is None or (record.kek_version == current.get(record.kek) and not stale):
        return record
    material = ring._state.unwrap_material(record)
    aad = key_aad(record)
    provider = ring._state.kek_provider
    assert provider is not None

    def wrap(name: str) -> tuple[str, str]:
        version, wrapped = provider.wrap(name, material, aad, create=False)
        if version != current[name]:
            raise KeyAccessError("the provider did not wrap under the new KEK version", key=name)
        return version, b64url_encode(wrapped)

    for name, copy in stale.items():
        old.add((name, copy.kek_version))
        version, wrapped = wrap(name)
        copies[name] = WrappedCopy(wrapped=wrapped, kek_version=version)
    old.add((record.kek, record.kek_version))
    version, wrapped = wrap(record.kek)
    return record.model_copy(update={"wrapped": wrapped, "kek_version": version, "copies": copies})


def keks_in_use(ring: Keyring) -> dict[str, set[str]]:
    """The KEK names the key store uses and, for each, the versions that wrap its keys
    now (what :func:`rotate_kek` rotates; no material)."""
    with ring._lock:
        ring._refresh(force=True)
        document = ring._state.document
    assert document is not None
    used: dict[str, set[str]] = {DEFAULT_KEK: {document.index_kek_version}}
    for name, entry in document.index_keys.items():
        used.setdefault(name, set()).add(entry.kek_version)
    for k in document.keys:
        if k.wrapped is not None:
            used.setdefault(k.kek, set()).add(k.kek_version)
        for name, copy in (k.copies or {}).items():  # every reader's KEK
            used.setdefault(name, set()).add(copy.kek_version)
    return used


def rotate_kek(ring: Keyring) -> KekRotation:
    """Rotate every KEK the key store uses; see the module docstring."""
    names = keks_in_use(ring)
    provider, document = ring._state.kek_provider, ring._state.document
    assert provider is not None
    assert document is not None
    current = {name: provider.rotate(name) for name in sorted(names)}
    old: set[tuple[str, str]] = set()
    counted = [0]

    def change(doc: KeyringDocument) -> tuple[KeyringDocument, None]:
        keys = []
        for record in doc.keys:
            new = _rewrap_record(ring, record, current, old)
            if new is not record:
                counted[0] += 1
            keys.append(new)
        aad = index_key_aad(doc.kek.id)
        index = ring._state.index_key
        version, wrapped = provider.wrap(DEFAULT_KEK, index, aad, create=False)
        old.add((DEFAULT_KEK, doc.index_kek_version))
        index_keys = {}
        for name, entry in doc.index_keys.items():
            old.add((name, entry.kek_version))
            v, w = provider.wrap(name, index, aad, create=False)
            index_keys[name] = IndexKey(wrapped=b64url_encode(w), kek_version=v)
        update = {
            "keys": tuple(keys), "index_key": b64url_encode(wrapped),
            "index_kek_version": version, "index_keys": index_keys,
        }  # fmt: skip
        return doc.model_copy(update=update), None

    with ring._lock:
        ring._mutate(change)
    destroyed = []
    for name, version in sorted(old):
        if version == current.get(name) or version == "static":
            continue
        provider.destroy_version(name, version)
        destroyed.append((name, version))
    log.warning(
        "rotated key-encryption keys %s: %d data key(s) wrapped again, %d old version(s) "
        "destroyed", sorted(current), counted[0], len(destroyed),
    )  # fmt: skip
    return KekRotation(rewrapped=counted[0], new_versions=current, destroyed=destroyed)
