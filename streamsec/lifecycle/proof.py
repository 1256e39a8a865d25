"""Proving a subject is forgotten: try to decrypt every envelope, count who reads.

:class:`ForgetProver` looks at protected records (and their Kafka keys), tells the
forgotten subject's records from the others (:class:`SubjectResolver.belongs`),
tries to decrypt every envelope of every record and tallies the outcome. The claim
holds when **none** of the subject's envelopes decrypt and **all** of the other
subjects' do. Envelopes under keys of *other* subjects erased earlier are not held
against the claim; they are counted apart.

Counts are per envelope: a whole encrypted field is one, each entity encrypted
inside free text is one. Nothing here prints or keeps a value.

Given a **copy of the key store** taken before the erasure (a backup, a snapshot),
the prover also tries every one of the subject's envelopes with it: the claim then
also needs that copy to decrypt none of them. It does only when the erasure was
followed by a KEK rotation that destroyed the old KEK version in the provider
(``docs/keys.md``); otherwise the copy still unwraps the destroyed keys.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from streamsec.crypto.aad import NO_BINDING, Binding
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keys import KeyInfo, KeyState
from streamsec.crypto.provider import KeyProvider
from streamsec.decryption.envelopes import Opener, ProtectedLeaf, open_value, protected_leaves
from streamsec.errors import KeyAccessError
from streamsec.lifecycle.forget import require_subject_path
from streamsec.lifecycle.subjects import SubjectResolver, subject_key_ids
from streamsec.protection.binding import RecordBinder
from streamsec.protection.protector import KEY_PATH
from streamsec.records.paths import iter_leaves
from streamsec.topology.model import Topology

__all__ = ["ForgetProver", "ProofReport", "Tally"]


@dataclass
class Tally:
    records: int = 0
    values: int = 0
    decrypted: int = 0

    @property
    def share(self) -> float:
        return self.decrypted / self.values if self.values else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"records": self.records, "encrypted_values": self.values,
                "decrypted": self.decrypted}


@dataclass
class ProofReport:
    subject: Tally = field(default_factory=Tally)
    others: Tally = field(default_factory=Tally)
    excluded: int = 0
    """Other records' envelopes under keys of subjects erased before (not counted)."""
    unreadable: Counter[str] = field(default_factory=Counter)
    """Why other subjects' envelopes failed, by reason code."""
    subject_id_in_clear: int = 0
    """The subject's records that still hold its id in clear (e.g. a kept id field)."""
    keys_known: bool = True
    """False when the provider cannot list the subject's keys (identified by field only)."""
    copy: Tally | None = None
    """With a key-store copy: the subject's envelopes tried with it."""
    copy_unlocks: bool = True
    """False when the copy does not even open (its KEK version was destroyed)."""

    @property
    def holds(self) -> bool:
        copy_ok = self.copy is None or self.copy.decrypted == 0
        return (
            self.subject.decrypted == 0 and self.others.decrypted == self.others.values
            and copy_ok
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "holds": self.holds,
            "subject": self.subject.as_dict(),
            "others": self.others.as_dict(),
            "others_excluded_other_erasures": self.excluded,
            "others_unreadable": dict(self.unreadable),
            "subject_id_in_clear": self.subject_id_in_clear,
            "subject_keys_known": self.keys_known,
            **({} if self.copy is None else {"keystore_copy": {
                **self.copy.as_dict(), "unlocks": self.copy_unlocks}}),
        }

    def render(self) -> str:
        s, o = self.subject, self.others
        lines = [
            f"subject: {s.records} record(s), {s.decrypted} of {s.values} encrypted value(s) "
            f"decrypted (must be 0)",
            f"others:  {o.records} record(s), {o.decrypted} of {o.values} encrypted value(s) "
            f"decrypted ({100 * o.share if o.values else 100:.1f}%, must be 100%)",
        ]
        if self.copy is not None:
            c = self.copy
            lines.append(
                f"key-store copy: {c.decrypted} of {c.values} of the subject's encrypted "
                f"value(s) decrypted with it (must be 0)"
                + ("" if self.copy_unlocks else "; the copy does not unlock at all")
            )
        if self.excluded:
            lines.append(f"not counted: {self.excluded} value(s) of subjects erased before")
        if self.unreadable:
            reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.unreadable.items()))
            lines.append(f"others' unreadable values: {reasons}")
        if self.subject_id_in_clear:
            lines.append(
                f"note: {self.subject_id_in_clear} of the subject's record(s) keep its id in "
                "clear (the subject field is not encrypted)"
            )
        if s.records == 0:
            lines.append("warning: no record of this subject was found")
        if not self.keys_known:
            lines.append("warning: the key provider cannot list the subject's keys; "
                         "records were identified by the subject field only")
        lines.append("PASS: the subject is forgotten" if self.holds else "FAIL")
        return "\n".join(lines)


def _erased_subject_keys(provider: KeyProvider, owner: str) -> set[str]:
    """Ids of the keys of every subject whose keys are *all* destroyed (an erasure)."""
    by_subject: dict[str, list[KeyInfo]] = {}
    for info in provider.list_keys(owner):
        if info.subject is not None:
            by_subject.setdefault(info.subject, []).append(info)
    return {
        k.id for keys in by_subject.values()
        if all(k.state is KeyState.DESTROYED for k in keys) for k in keys
    }


class ForgetProver:
    """``copy``: the key store copy's provider, or ``None`` with ``copy_given`` when the
    copy does not open (counted as decrypting nothing)."""

    def __init__(
        self, topology: Topology, provider: KeyProvider, subject: str, *,
        copy: KeyProvider | None = None, copy_given: bool = False,
    ) -> None:
        require_subject_path(topology)
        self.topology = topology
        self._subject = subject
        self._cipher = KeyringCipher(provider, topology.name)
        self._binder = RecordBinder(topology)
        self._resolver = SubjectResolver(topology, provider)
        self._key_ids = subject_key_ids(provider, topology.name, subject)
        erased = _erased_subject_keys(provider, topology.name)
        self._erased_before = erased - (self._key_ids or set())
        self.report = ProofReport(keys_known=self._key_ids is not None)
        self._copy = KeyringCipher(copy, topology.name) if copy is not None else None
        if copy is not None or copy_given:
            self.report.copy = Tally()
            self.report.copy_unlocks = copy is not None

    def _opener(self, binding: Binding) -> Opener:
        def open_(token: str, path: str) -> bytes:
            return self._cipher.decrypt(token, path=path, binding=binding)

        return open_

    def check(self, record: dict[str, Any], key: str | None = None) -> bool:
        """Tally one protected record (with its Kafka key text); True if it is the subject's."""
        mine = self._resolver.belongs(record, self._subject, self._key_ids, key)
        tally = self.report.subject if mine else self.report.others
        tally.records += 1
        leaves = list(protected_leaves(record))
        key_leaf = ProtectedLeaf((), KEY_PATH, key) if key is not None and "ssec:" in key else None
        bindings = self._binder.of(record)
        for leaf in [*leaves, *([key_leaf] if key_leaf else [])]:
            binding = NO_BINDING if leaf is key_leaf else bindings.at(leaf.location)
            if mine:
                self._try_copy(leaf, binding)
            for slot in open_value(leaf, self._opener(binding)):
                if not mine and not slot.opened and slot.key_id in self._erased_before:
                    self.report.excluded += 1
                    continue
                tally.values += 1
                if slot.opened:
                    tally.decrypted += 1
                elif not mine and slot.error is not None:
                    self.report.unreadable[slot.error.reason] += 1
        if mine and self._in_clear(record):
            self.report.subject_id_in_clear += 1
        return mine

    def _try_copy(self, leaf: ProtectedLeaf, binding: Binding) -> None:
        tally = self.report.copy
        if tally is None:
            return
        copy = self._copy

        def open_(token: str, path: str) -> bytes:
            if copy is None:
                raise KeyAccessError("the key-store copy does not unlock")
            return copy.decrypt(token, path=path, binding=binding)

        for slot in open_value(leaf, open_):
            tally.values += 1
            tally.decrypted += slot.opened

    def _in_clear(self, record: dict[str, Any]) -> bool:
        return any(str(value) == self._subject for _, value in iter_leaves(record))
