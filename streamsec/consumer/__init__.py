"""Consumers by role: read protected topics, decrypting only what a role may read.

:class:`ProtectedConsumer` is an aiokafka-based async iterator of records; the
per-field decision and the role's view of a record live in
:mod:`streamsec.decryption`. See ``docs/keys.md`` (Roles).
"""

from __future__ import annotations

from streamsec.consumer.client import ConsumedRecord, ProtectedConsumer

__all__ = ["ConsumedRecord", "ProtectedConsumer"]
