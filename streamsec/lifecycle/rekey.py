"""Re-keying history: re-encrypt a protected record's envelopes under current keys.

Each envelope under a *retired* key version is decrypted and sealed again under the
current version of the same key: same purpose (``siv`` stays ``siv``, ``gcm`` stays
``gcm``), same owner, same data subject, same associated-data path. Envelopes already
under a current key are left byte for byte. Envelopes under a *destroyed* key
(a forgotten subject) are left as they are: they stay unreadable for good.

Once every copy of the data is re-keyed, the retired versions can be destroyed
(``streamsec keys destroy``) without losing anything: :class:`RekeySummary` names
the versions no output still refers to.

Pure apart from the key provider (which may create a current key on first use).
A record that cannot be re-keyed (tampered envelope, unknown key, a per-subject
ciphertext whose subject id is not recoverable) raises a :class:`ProtectionError`
naming the path and key id; the caller keeps that record as it was and must not
destroy its keys.

Envelopes are opened with the bindings of the record as read and sealed with those
of the record as written (:mod:`streamsec.protection.binding`): the subject field
first, then the record-id field, then the rest. When re-keying the subject or
record-id field changes its envelope, every version-2 envelope bound to it is
sealed again (under its current key) so the record stays readable. Re-sealed
envelopes are version 2; version-1 envelopes under a current key are left as they
are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streamsec.actions.encrypt import is_envelope
from streamsec.crypto.aad import NO_BINDING, Binding
from streamsec.crypto.cipher import KeyringCipher, seal
from streamsec.crypto.envelope import parse_envelope
from streamsec.crypto.keys import DataKey, KeyInfo, KeyState
from streamsec.crypto.plaintext import decode_value
from streamsec.crypto.provider import KeyProvider
from streamsec.crypto.readers import reader_label
from streamsec.decryption.envelopes import (
    EnvelopeSlot,
    ProtectedLeaf,
    key_ids_in,
    open_value,
    protected_leaves,
    replace_slots,
)
from streamsec.errors import KeyDestroyedError, ProtectionError
from streamsec.lifecycle.subjects import SubjectHasher, SubjectResolver
from streamsec.protection.applier import copy_json
from streamsec.protection.binding import RecordBinder
from streamsec.protection.protector import KEY_PATH
from streamsec.records.paths import set_at
from streamsec.topology.model import Topology

__all__ = ["RekeyResult", "RekeySummary", "Rekeyer", "rekey_key_ids"]


@dataclass(frozen=True, slots=True)
class RekeyResult:
    """One re-keyed record. ``replaced``: old key id -> new key id, for the header."""

    record: dict[str, Any]
    key: str | None
    replaced: dict[str, str]
    rekeyed: int
    current: int
    shredded: int

    @property
    def key_ids(self) -> set[str]:
        """Key ids the re-keyed record (and key) still refer to."""
        return key_ids_in(self.record) | key_ids_in(self.key or "")


class _RecordState:
    """Per-record scratch: counters and the lazily recovered subject id."""

    def __init__(self, record: dict[str, Any], resolver: SubjectResolver | None) -> None:
        self.record = record
        self.resolver = resolver
        self.replaced: dict[str, str] = {}
        self.rekeyed = self.current = self.shredded = 0
        self._subject: tuple[str | None] | None = None

    def subject(self) -> str | None:
        if self._subject is None:
            found = self.resolver.subject_of(self.record) if self.resolver else None
            self._subject = (found,)
        return self._subject[0]


class Rekeyer:
    """Re-keys the records of one topology (the key owner) over ``provider``."""

    def __init__(self, topology: Topology, provider: KeyProvider) -> None:
        self.topology = topology
        self.provider = provider
        self.cipher = KeyringCipher(provider, topology.name)
        self._resolver = SubjectResolver(topology, provider) if topology.subject else None
        self._binder = RecordBinder(topology)

    def rekey(self, record: dict[str, Any], key: str | None = None) -> RekeyResult:
        """``record`` (and its Kafka key text) with every retired envelope re-encrypted."""
        state = _RecordState(record, self._resolver)
        out: dict[str, Any] = copy_json(record)
        old = self._binder.of(record)
        first = {old.subject_at: 0, old.record_at: 1}
        leaves = sorted(protected_leaves(record), key=lambda leaf: first.get(leaf.location, 2))
        for leaf in leaves:
            new_binding = self._binder.of(out).at(leaf.location)
            new = self._leaf(leaf, state, old.at(leaf.location), new_binding)
            if new != leaf.value:
                set_at(out, leaf.location, new)
        new_key = key
        if key is not None and is_envelope(key):
            leaf = ProtectedLeaf((), KEY_PATH, key)
            new_key = self._leaf(leaf, state, NO_BINDING, NO_BINDING)  # from the key alone
        return RekeyResult(
            out, new_key, state.replaced, state.rekeyed, state.current, state.shredded
        )

    def _leaf(
        self, leaf: ProtectedLeaf, state: _RecordState, old: Binding, new: Binding
    ) -> str:
        def open_(token: str, path: str) -> bytes:
            return self.cipher.decrypt(token, path=path, binding=old)

        slots = open_value(leaf, open_)
        for slot in slots:
            if isinstance(slot.error, KeyDestroyedError):
                state.shredded += 1
            elif slot.error is not None:
                raise slot.error
        return replace_slots(
            leaf.value, slots,
            lambda s: self._reseal(s, leaf, state, new, rebind=new != old),
        )

    def _reseal(
        self, slot: EnvelopeSlot, leaf: ProtectedLeaf, state: _RecordState, binding: Binding,
        *, rebind: bool,
    ) -> str | None:
        if slot.plaintext is None:
            return None  # destroyed key: left as it is
        info = self.provider.key_by_id(slot.key_id).info
        version = parse_envelope(leaf.value[slot.start : slot.end]).version
        if info.state is KeyState.ACTIVE and not (rebind and version > 1):
            state.current += 1
            return None
        target = (
            self.provider.key_by_id(info.id) if info.state is KeyState.ACTIVE
            else self._target(info, leaf.path, state, slot.plaintext)
        )
        token = seal(
            target, slot.plaintext, topology=self.topology.name, path=leaf.path,
            binding=binding, pad_to=self.topology.encryption.pad_to,
        )
        if target.id != info.id:
            state.replaced[info.id] = target.id
        state.rekeyed += 1
        return token

    def _target(
        self, info: KeyInfo, path: str, state: _RecordState, plaintext: bytes
    ) -> DataKey:
        owner = self.topology.name
        # the same KEK (category) or reader set (role) as the retired key: re-keying must
        # not move a value under a KEK more holders have
        kek = info.kek if info.readers is None else reader_label(info.readers)
        if info.subject is None:
            return self.provider.current_key(owner, info.purpose, kek=kek)
        # a record key is sealed under its own text's subject key (protection.record_key)
        subject = _key_subject(plaintext) if path == KEY_PATH else state.subject()
        if subject is None:
            raise ProtectionError(
                "cannot re-key a per-subject ciphertext: the record's subject id is not "
                "recoverable (missing, hashed or masked)",
                path=path, key_id=info.id,
            )
        if (
            isinstance(self.provider, SubjectHasher)
            and self.provider.subject_hash(owner, subject) != info.subject
        ):
            raise ProtectionError(
                "the record's subject does not own this ciphertext's key",
                path=path, key_id=info.id,
            )
        return self.provider.current_key(owner, info.purpose, subject, kek=kek)


def _key_subject(plaintext: bytes) -> str | None:
    try:
        value = decode_value(plaintext)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def rekey_key_ids(header: bytes, replaced: dict[str, str]) -> bytes:
    """The ``streamsec.key-ids`` header value with re-keyed ids replaced."""
    ids = [i for i in header.decode("ascii", "replace").split(",") if i]
    return ",".join(sorted({replaced.get(i, i) for i in ids})).encode("ascii")


@dataclass
class RekeySummary:
    """Totals of a re-keying run (metadata only)."""

    records: int = 0
    rekeyed: int = 0
    current: int = 0
    shredded: int = 0
    failed: int = 0
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    referenced: set[str] = field(default_factory=set)
    """Key ids the output still refers to."""

    def add(self, result: RekeyResult) -> None:
        self.records += 1
        self.rekeyed += result.rekeyed
        self.current += result.current
        self.shredded += result.shredded
        self.moves.update(result.replaced.items())
        self.referenced |= result.key_ids

    def add_failure(self, kept: Iterable[str]) -> None:
        """A record copied unchanged because it could not be re-keyed."""
        self.records += 1
        self.failed += 1
        self.referenced |= set(kept)

    @property
    def releasable(self) -> list[str]:
        """Retired ids re-keyed away from that the output no longer refers to."""
        return sorted({old for old, _ in self.moves} - self.referenced)

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "rekeyed": self.rekeyed,
            "already_current": self.current,
            "shredded_left": self.shredded,
            "failed": self.failed,
            "moves": [{"from": a, "to": b, "count": n} for (a, b), n in sorted(self.moves.items())],
            "releasable_key_ids": self.releasable,
        }

    def render(self) -> str:
        lines = [
            f"records: {self.records}  envelopes re-keyed: {self.rekeyed}  "
            f"already current: {self.current}  shredded (left unreadable): {self.shredded}  "
            f"failed records: {self.failed}"
        ]
        lines += [f"  {a} -> {b}: {n}" for (a, b), n in sorted(self.moves.items())]
        if self.failed:
            lines.append("some records were copied unchanged: do not destroy their keys yet")
        elif self.releasable:
            lines.append(
                "no longer referenced by this output (destroy once every copy is re-keyed): "
                + ", ".join(self.releasable)
            )
        return "\n".join(lines)
