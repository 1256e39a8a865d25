"""A role's view of a protected record: permitted fields decrypted, the rest untouched.

:meth:`RoleDecryptor.view` is pure apart from the key provider. Every envelope the
role may read is decrypted (whole values get back their JSON type, envelopes in
free text their text); fields it may not read keep their ciphertext; an envelope
that cannot be decrypted (destroyed key: a forgotten subject; tampering) keeps its
ciphertext too and is reported by reason code. :func:`decrypt_events` turns the
reads into ``io.streamsec.field.decrypted`` audit events: role, path, key id and
record coordinates, never a value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamsec.crypto.aad import NO_BINDING, Binding
from streamsec.crypto.base import FieldCipher
from streamsec.crypto.keys import KeyInfo
from streamsec.decryption.envelopes import (
    EnvelopeSlot,
    Opener,
    ProtectedLeaf,
    key_ids_in,
    open_value,
    protected_leaves,
    restore,
)
from streamsec.decryption.roles import Basis, RoleAccess
from streamsec.errors import StreamsecError
from streamsec.events.audit import RecordRef, field_decrypted
from streamsec.protection.applier import copy_json
from streamsec.protection.binding import RecordBinder
from streamsec.protection.protector import KEY_PATH
from streamsec.records.paths import JsonValue, set_at

__all__ = ["FieldRead", "RoleDecryptor", "RoleView", "decrypt_events"]


@dataclass(frozen=True, slots=True)
class FieldRead:
    """One field (or the record key) a role read in clear, under one key."""

    path: str
    key_id: str
    basis: Basis


@dataclass(frozen=True, slots=True)
class RoleView:
    record: dict[str, Any]
    key: str | None
    reads: tuple[FieldRead, ...]
    denied: tuple[str, ...]
    """Paths of encrypted fields the role may not read (left encrypted)."""
    failed: tuple[tuple[str, str], ...]
    """``(path, reason)`` of permitted envelopes that could not be decrypted."""


def _key_lookup(cipher: FieldCipher) -> Callable[[str], KeyInfo | None]:
    """Key id -> its metadata: KEK name, readers (no key release)."""
    info = getattr(getattr(cipher, "provider", None), "key_info", None)

    def key_of(key_id: str) -> KeyInfo | None:
        if info is None:
            return None
        try:
            found = info(key_id)
        except StreamsecError:
            return None
        return found if isinstance(found, KeyInfo) else None

    return key_of


class RoleDecryptor:
    def __init__(self, cipher: FieldCipher, access: RoleAccess) -> None:
        self.cipher = cipher
        self.access = access
        self._key_of = _key_lookup(cipher)
        self.binder = RecordBinder(access.topology)

    def _keks(self, value: str) -> tuple[frozenset[str], frozenset[str] | None]:
        """The KEK names of the keys that sealed ``value``, and the roles that are
        readers of every one of them (``None`` unless all are role-separated)."""
        infos = [self._key_of(k) for k in key_ids_in(value)]
        known = [i for i in infos if i is not None]
        if not known or len(known) < len(infos):
            return frozenset(), None
        readers = [frozenset(i.readers) for i in known if i.readers is not None]
        both = frozenset.intersection(*readers) if len(readers) == len(known) else None
        return frozenset(i.kek for i in known), both

    def _opener(self, binding: Binding) -> Opener:
        def open_(token: str, path: str) -> bytes:
            return self.cipher.decrypt(token, path=path, binding=binding)

        return open_

    def view(self, record: dict[str, Any], *, key: str | None = None) -> RoleView:
        out: dict[str, Any] = copy_json(record)
        reads: list[FieldRead] = []
        denied: list[str] = []
        failed: list[tuple[str, str]] = []
        leaves = list(protected_leaves(record))
        key_leaf = ProtectedLeaf((), KEY_PATH, key) if key and "ssec:" in key else None
        new_key = key
        bindings = self.binder.of(record)
        for leaf in [*leaves, *([key_leaf] if key_leaf else [])]:
            access = self.access.decide(leaf.path, *self._keks(str(leaf.value)))
            if not access.allowed:
                denied.append(leaf.path)
                continue
            # a record key is protected from the key alone (protection/record_key.py)
            binding = NO_BINDING if leaf is key_leaf else bindings.at(leaf.location)
            slots = open_value(leaf, self._opener(binding))
            value = self._restore(leaf, slots, access.basis, reads, failed)
            if leaf is key_leaf:
                new_key = str(value)
            elif value is not leaf.value:
                set_at(out, leaf.location, value)
        return RoleView(out, new_key, tuple(reads), tuple(denied), tuple(failed))

    def _restore(
        self, leaf: ProtectedLeaf, slots: list[EnvelopeSlot], basis: Basis,
        reads: list[FieldRead], failed: list[tuple[str, str]],
    ) -> JsonValue:
        for slot in slots:
            if slot.error is not None:
                failed.append((leaf.path, slot.error.reason))
        value = restore(leaf, slots)
        for key_id in dict.fromkeys(s.key_id for s in slots if s.plaintext is not None):
            reads.append(FieldRead(leaf.path, key_id, basis))
        return value


def decrypt_events(
    view: RoleView, *, role: str, actor: str, topology: str, record: RecordRef | None
) -> list[dict[str, Any]]:
    """One unsealed ``field.decrypted`` event per (path, key id) the role read."""
    seen = dict.fromkeys((r.path, r.key_id) for r in view.reads)
    return [
        field_decrypted(
            worker_id=actor, topology=topology, path=path, key_id=key_id, role=role,
            record=record,
        )
        for path, key_id in seen
    ]
