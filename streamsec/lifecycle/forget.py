"""Crypto-shredding one data subject: destroy its keys and record the erasure.

The topology's ``subject:`` path makes the protector encrypt each record's values
under that subject's own keys (per purpose, per version). Destroying those keys
makes every such value unreadable everywhere it was copied (topics, backups,
files) while every other subject's values still decrypt. The keyring keeps a
tombstone, so a forgotten subject's *new* records fail closed (dead letter)
instead of being encrypted under a fresh key.

The erasure is audited by an ``io.streamsec.subject.erased`` event naming the
subject by a pseudonym under the audit pseudonym key (never the id, never a data
key) and the destroyed key ids, in an audit chain signed with the operator's audit
signing key and closed at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamsec.crypto.keys import KeyInfo
from streamsec.crypto.provider import KeyProvider
from streamsec.errors import ConfigError
from streamsec.events.audit import subject_erased
from streamsec.events.signing import AuditIdentity
from streamsec.events.trail import AuditTrail
from streamsec.topology.model import Topology

__all__ = ["Erasure", "forget_subject", "require_subject_path", "shred_subject"]


@dataclass(frozen=True, slots=True)
class Erasure:
    topology: str
    subject_hmac: str
    """Pseudonym of the subject id (under the audit pseudonym key, not a data key)."""
    keys: tuple[KeyInfo, ...]
    events: tuple[dict[str, Any], ...]
    """The erasure event, its chain's final signed checkpoint and the actor's final signed
    digest, to deliver in order."""

    @property
    def key_ids(self) -> list[str]:
        return sorted(k.id for k in self.keys)


def require_subject_path(topology: Topology) -> str:
    """The topology's subject path; a :class:`ConfigError` when it names none."""
    if topology.subject is None:
        raise ConfigError(
            "the topology names no data subject ('subject:'), so its records are not "
            "encrypted per subject and cannot be crypto-shredded per subject",
            key="subject",
        )
    return topology.subject


def forget_subject(
    provider: KeyProvider, topology: Topology, subject: str, *, actor: str,
    identity: AuditIdentity,
) -> Erasure:
    """Destroy every key of ``subject`` in ``topology`` and build the audit events."""
    require_subject_path(topology)
    return shred_subject(provider, topology.name, subject, actor=actor, identity=identity)


def shred_subject(
    provider: KeyProvider, owner: str, subject: str, *, actor: str, identity: AuditIdentity
) -> Erasure:
    """Destroy every key of ``subject`` of key owner ``owner`` (a topology name) and
    build the sealed ``subject.erased`` audit events (``keys shred-subject``)."""
    if not subject:
        raise ConfigError("the subject id is empty", key="subject")
    trail = AuditTrail(identity, actor=actor, topology=owner)  # the audit key first: fail early
    keys = tuple(provider.destroy_subject(owner, subject))
    subject_hmac = trail.pseudonyms.subject(subject)
    event = subject_erased(
        worker_id=actor, owner=owner, subject_hmac=subject_hmac, key_ids=[k.id for k in keys],
    )
    events = (*trail.seal([event]), *trail.close())
    return Erasure(owner, subject_hmac, keys, events)
