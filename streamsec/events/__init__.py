"""Audit and lineage events: pure builders, the audit chain, and its verifier.

* :mod:`~streamsec.events.audit` - CloudEvents builders (record protected / dead
  lettered, key rotated / key operation, subject erased, field decrypted); never a value.
* :mod:`~streamsec.events.batch` - one ``records.batch`` event per batch and source
  partition listing each record's decisions, each entry signed per record.
* :mod:`~streamsec.events.signing` / :mod:`~streamsec.events.trust` - writers'
  Ed25519 signing keys, the audit pseudonym key, the operator-certified trust store.
* :mod:`~streamsec.events.chain` - :class:`AuditChain`: seq, prev, digest, and a
  signed checkpoint per batch (one chain per writer, partition and run).
* :mod:`~streamsec.events.digests` / :mod:`~streamsec.events.handover` - signed
  digests (what should be there) and crash handover records.
* :mod:`~streamsec.events.trail` - :class:`AuditTrail`, the one owner of chains.
* :mod:`~streamsec.events.verify` - :func:`verify`: every problem per chain, with
  public keys only (docs/audit.md).
* :mod:`~streamsec.events.lineage` / :mod:`~streamsec.events.lineage_tracker` -
  OpenLineage RunEvents and when to emit them.
"""

from __future__ import annotations

from streamsec.events.audit import (
    Pseudonymizer,
    RecordRef,
    field_decrypted,
    key_operation,
    key_rotated,
    record_dead_lettered,
    record_protected,
    subject_erased,
)
from streamsec.events.chain import AuditChain, ChainMark
from streamsec.events.cloudevents import EventType, cloudevent_problems
from streamsec.events.lineage import column_lineage_facet, kafka_namespace, run_event
from streamsec.events.lineage_shape import ObservedShape, leaf_types
from streamsec.events.lineage_tracker import LineageTracker
from streamsec.events.verify import ChainStatus, Problem, Reason, VerifyReport, verify

__all__ = [
    "AuditChain",
    "ChainMark",
    "ChainStatus",
    "EventType",
    "LineageTracker",
    "ObservedShape",
    "Problem",
    "Pseudonymizer",
    "Reason",
    "RecordRef",
    "VerifyReport",
    "cloudevent_problems",
    "column_lineage_facet",
    "field_decrypted",
    "kafka_namespace",
    "key_operation",
    "key_rotated",
    "leaf_types",
    "record_dead_lettered",
    "record_protected",
    "run_event",
    "subject_erased",
    "verify",
]
