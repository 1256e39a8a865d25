"""Key lifecycle on top of the keyring: crypto-shredding, proof of erasure, re-keying.

* :func:`forget_subject`: destroy one data subject's keys and build the audit event.
* :class:`ForgetProver`: count which envelopes still decrypt after an erasure.
* :class:`Rekeyer`: re-encrypt a protected record under the current key versions.
* :class:`AuditTrail` and the audit sinks (from :mod:`streamsec.events`): sealed
  audit events of these operations.

See ``docs/keys.md``.
"""

from __future__ import annotations

from streamsec.events.sinks import AuditSink, FileAuditSink, MemoryAuditSink, actor_id
from streamsec.events.trail import AuditTrail
from streamsec.lifecycle.forget import Erasure, forget_subject
from streamsec.lifecycle.proof import ForgetProver, ProofReport
from streamsec.lifecycle.rekey import Rekeyer, RekeyResult, RekeySummary, rekey_key_ids
from streamsec.lifecycle.subjects import SubjectResolver, subject_key_ids

__all__ = [
    "AuditSink",
    "AuditTrail",
    "Erasure",
    "FileAuditSink",
    "ForgetProver",
    "MemoryAuditSink",
    "ProofReport",
    "RekeyResult",
    "RekeySummary",
    "Rekeyer",
    "SubjectResolver",
    "actor_id",
    "forget_subject",
    "rekey_key_ids",
    "subject_key_ids",
]
