"""Audit-event builders: pure functions from protection metadata to CloudEvents dicts.

They take :class:`~streamsec.protection.result.FieldAction` lists, topology
metadata and record coordinates, and **never** a record value: not in clear, not
masked, not encrypted. The record key (often a customer id) appears only as a
pseudonym keyed under the audit pseudonym key, which no data-key holder has
(:class:`~streamsec.events.signing.Pseudonymizer`). A dead letter carries the
error's fixed ``reason`` code and type, never its message.

The events returned here are unchained; :class:`streamsec.events.chain.AuditChain`
adds ``chain``, ``seq``, ``prev`` and ``digest`` and signs checkpoints over them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from streamsec.errors import StreamsecError
from streamsec.events.cloudevents import EventType, new_event, worker_source
from streamsec.events.signing import Pseudonymizer
from streamsec.frozen import quick_init
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = [
    "Pseudonymizer",
    "RecordRef",
    "dead_letter_entry",
    "field_decrypted",
    "field_entry",
    "key_operation",
    "key_rotated",
    "protected_entry",
    "record_dead_lettered",
    "record_protected",
    "subject_erased",
]

_SAFE_CODE: Final = re.compile(r"[a-z0-9_.-]{1,64}")
_SAFE_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


@quick_init
@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where a record was read: topic, partition, offset and the key's pseudonym."""

    topic: str
    partition: int
    offset: int
    key_pseudonym: str | None = None

    @classmethod
    def of(
        cls, topic: str, partition: int, offset: int, key: bytes | None, pseudonyms: Pseudonymizer
    ) -> RecordRef:
        return cls(topic, partition, offset, pseudonyms.record_key(key))

    @property
    def subject(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    def as_data(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "key_pseudonym": self.key_pseudonym,
        }


def field_entry(action: FieldAction) -> dict[str, Any]:
    """The audit form of one field action (metadata only, by construction)."""
    return {
        "path": action.path,
        "action": action.action,
        "mode": action.mode,
        "entity_types": list(action.entity_types),
        "category": action.category,
        "sensitivity": action.sensitivity,
        "source": action.source,
        "score": action.score,
        "key_id": action.key_id,
        "spans": action.spans,
    }


def protected_entry(record: RecordRef, actions: Sequence[FieldAction]) -> dict[str, Any]:
    """One protected record's decisions, as listed in a batch event
    (:mod:`streamsec.events.batch`): the same metadata as :func:`record_protected`."""
    return {
        "offset": record.offset,
        "key_pseudonym": record.key_pseudonym,
        "outcome": "protected",
        "fields": [field_entry(a) for a in actions],
        "key_ids": sorted({a.key_id for a in actions if a.key_id}),
    }


def dead_letter_entry(record: RecordRef, error: StreamsecError) -> dict[str, Any]:
    """One dead-lettered record, as listed in a batch event: the same reason code,
    error type and context names as :func:`record_dead_lettered`, never the message."""
    return {
        "offset": record.offset,
        "key_pseudonym": record.key_pseudonym,
        "outcome": "dead_lettered",
        **_dead_letter_data(error),
    }


def _dead_letter_data(error: StreamsecError) -> dict[str, Any]:
    reason = error.reason if _SAFE_CODE.fullmatch(error.reason) else "error"
    kind = type(error).__name__
    data: dict[str, Any] = {
        "reason": reason,
        "error_type": kind if _SAFE_NAME.fullmatch(kind) else "StreamsecError",
    }
    for name in ("path", "key_id"):
        value = error.context.get(name)
        if isinstance(value, str):
            data[name] = value
    return data


def _topology_data(topology: Topology) -> dict[str, Any]:
    return {
        "topology": {"name": topology.name, "version": topology.version},
        "policy": {"default_action": topology.policy.default_action},
    }


def record_protected(
    topology: Topology,
    record: RecordRef,
    actions: Sequence[FieldAction],
    *,
    worker_id: str,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """``io.streamsec.record.protected``: which fields of one record were protected, and how."""
    data = {
        "worker": worker_id,
        "record": record.as_data(),
        **_topology_data(topology),
        "output": topology.output,
        "fields": [field_entry(a) for a in actions],
        "key_ids": sorted({a.key_id for a in actions if a.key_id}),
    }
    return new_event(
        EventType.RECORD_PROTECTED,
        source=worker_source(worker_id),
        subject=record.subject,
        data=data,
        time=time,
        event_id=event_id,
    )


def record_dead_lettered(
    topology: Topology,
    record: RecordRef,
    error: StreamsecError,
    *,
    worker_id: str,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """``io.streamsec.record.dead_lettered``: reason code and error type, never the message."""
    data: dict[str, Any] = {
        "worker": worker_id,
        "record": record.as_data(),
        **_topology_data(topology),
        "dead_letter": topology.dead_letter_topic,
        **_dead_letter_data(error),
    }
    return new_event(
        EventType.RECORD_DEAD_LETTERED,
        source=worker_source(worker_id),
        subject=record.subject,
        data=data,
        time=time,
        event_id=event_id,
    )


def key_rotated(
    *,
    worker_id: str,
    key_id: str,
    purpose: str,
    owner: str,
    version: int,
    previous_key_id: str | None = None,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """``io.streamsec.key.rotated``: a new current key version (metadata only)."""
    data = {
        "worker": worker_id,
        "key": {
            "id": key_id,
            "purpose": purpose,
            "owner": owner,
            "version": version,
            "previous_id": previous_key_id,
        },
    }
    return new_event(
        EventType.KEY_ROTATED,
        source=worker_source(worker_id),
        subject=key_id,
        data=data,
        time=time,
        event_id=event_id,
    )


def key_operation(
    *,
    worker_id: str,
    operation: str,
    key_id: str,
    provider: str,
    purpose: str | None = None,
    owner: str | None = None,
    kek_id: str | None = None,
    outcome: str = "ok",
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """``io.streamsec.key.operation``: a key provider created, wrapped, unwrapped, rotated
    or destroyed a key (metadata only: ids, never material). ``operation`` and
    ``outcome`` are short codes (``[a-z0-9_.-]``); key providers emit these through
    :class:`~streamsec.events.trail.AuditTrail` (see docs/audit.md)."""
    for name, code in (("operation", operation), ("outcome", outcome)):
        if not _SAFE_CODE.fullmatch(code):
            raise ValueError(f"{name} must be a short code")
    data = {
        "worker": worker_id,
        "operation": operation,
        "outcome": outcome,
        "provider": provider,
        "key": {"id": key_id, "purpose": purpose, "owner": owner, "kek_id": kek_id},
    }
    return new_event(
        EventType.KEY_OPERATION, source=worker_source(worker_id), subject=key_id,
        data=data, time=time, event_id=event_id,
    )


def subject_erased(
    *,
    worker_id: str,
    owner: str,
    subject_hmac: str,
    key_ids: Sequence[str],
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """``io.streamsec.subject.erased``: a data subject's keys were destroyed.

    ``subject_hmac`` is :meth:`Pseudonymizer.subject` of the subject id (keyed under
    the audit pseudonym key, which no data-key holder has), never the id.
    """
    data = {
        "worker": worker_id,
        "topology": {"name": owner},
        "subject_hmac": subject_hmac,
        "key_ids": sorted(set(key_ids)),
    }
    return new_event(
        EventType.SUBJECT_ERASED,
        source=worker_source(worker_id),
        subject=subject_hmac,
        data=data,
        time=time,
        event_id=event_id,
    )


def field_decrypted(
    *,
    worker_id: str,
    topology: str,
    path: str,
    key_id: str,
    role: str | None = None,
    record: RecordRef | None = None,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """``io.streamsec.field.decrypted``: someone read a protected field in clear."""
    data = {
        "worker": worker_id,
        "topology": {"name": topology},
        "path": path,
        "key_id": key_id,
        "role": role,
        "record": record.as_data() if record is not None else None,
    }
    return new_event(
        EventType.FIELD_DECRYPTED,
        source=worker_source(worker_id),
        subject=record.subject if record is not None else path,
        data=data,
        time=time,
        event_id=event_id,
    )
