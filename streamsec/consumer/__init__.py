"""Consumers by role: read protected topics, decrypting only what a role may read.

* :class:`ProtectedConsumer`: an aiokafka-based async iterator of records.
* :class:`RoleAccess`: the pure per-field decision (path, category, entity).
* :class:`RoleDecryptor`: a role's view of one record, and its audit events.

See ``docs/keys.md`` (Roles).
"""

from __future__ import annotations

from streamsec.consumer.access import Access, RecordSummary, RoleAccess
from streamsec.consumer.client import ConsumedRecord, ProtectedConsumer
from streamsec.consumer.view import FieldRead, RoleDecryptor, RoleView, decrypt_events

__all__ = [
    "Access",
    "ConsumedRecord",
    "FieldRead",
    "ProtectedConsumer",
    "RecordSummary",
    "RoleAccess",
    "RoleDecryptor",
    "RoleView",
    "decrypt_events",
]
