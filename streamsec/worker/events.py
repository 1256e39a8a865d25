"""Audit and lineage events for the records one topology agent handles.

Audit events come from :mod:`streamsec.events.audit` and are sealed in one
:class:`~streamsec.events.chain.AuditChain` per source partition. Lineage events
are built here (a small CloudEvents-shaped dict, replaceable by a builder in
:mod:`streamsec.events` when one exists). Neither ever holds a record value; the
record key appears only as a keyed HMAC.

Not thread-safe: an agent calls it from its single executor thread only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Final

from streamsec.errors import StreamsecError
from streamsec.events.audit import (
    Pseudonymizer,
    RecordRef,
    field_entry,
    record_dead_lettered,
    record_protected,
)
from streamsec.events.chain import AuditChain
from streamsec.events.cloudevents import CONTENT_TYPE, SPEC_VERSION, rfc3339, worker_source
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology
from streamsec.worker.model import SourceRecord

__all__ = ["LINEAGE_TYPE", "RecordEvents"]

LINEAGE_TYPE: Final = "io.streamsec.record.lineage"

Event = dict[str, Any]


class RecordEvents:
    def __init__(
        self,
        topology: Topology,
        *,
        worker_id: str,
        audit_key: bytes,
        audit_key_id: str,
        checkpoint_every: int = 1000,
    ) -> None:
        self.topology = topology
        self.worker_id = worker_id
        self._key = audit_key
        self._key_id = audit_key_id
        self._checkpoint_every = checkpoint_every
        self._pseudonyms = Pseudonymizer(audit_key)
        self._chains: dict[int, AuditChain] = {}

    def __repr__(self) -> str:
        return f"RecordEvents(topology={self.topology.name!r}, chains={len(self._chains)})"

    def _chain(self, partition: int) -> AuditChain:
        chain = self._chains.get(partition)
        if chain is None or chain.closed:
            chain = self._chains[partition] = AuditChain(
                self._key, key_id=self._key_id, worker_id=self.worker_id,
                partition=partition, checkpoint_every=self._checkpoint_every,
            )
        return chain

    def _ref(self, source: SourceRecord) -> RecordRef:
        return RecordRef.of(
            source.topic, source.partition, source.offset, source.key, self._pseudonyms
        )

    def protected(
        self, source: SourceRecord, actions: Sequence[FieldAction]
    ) -> tuple[list[Event], Event]:
        """Sealed audit event(s) (with any checkpoint now due) and the lineage event."""
        ref = self._ref(source)
        audit = record_protected(self.topology, ref, actions, worker_id=self.worker_id)
        return self._chain(source.partition).append(audit), self._lineage(ref, actions)

    def dead_lettered(self, source: SourceRecord, error: StreamsecError) -> list[Event]:
        audit = record_dead_lettered(
            self.topology, self._ref(source), error, worker_id=self.worker_id
        )
        return self._chain(source.partition).append(audit)

    def close(self, partitions: Iterable[int] | None = None) -> list[Event]:
        """Final checkpoints of the chains of ``partitions`` (default: all), which end."""
        wanted = list(self._chains) if partitions is None else list(partitions)
        out: list[Event] = []
        for partition in wanted:
            chain = self._chains.pop(partition, None)
            if chain is not None and not chain.closed:
                out.append(chain.close())
        return out

    def abandon(self, partitions: Iterable[int]) -> None:
        """Forget chains whose last events were not delivered (an aborted transaction):
        they read as truncated, and the next event starts a new chain."""
        for partition in partitions:
            self._chains.pop(partition, None)

    def _lineage(self, ref: RecordRef, actions: Sequence[FieldAction]) -> Event:
        topo = self.topology
        return {
            "specversion": SPEC_VERSION,
            "id": str(uuid.uuid4()),
            "source": worker_source(self.worker_id),
            "type": LINEAGE_TYPE,
            "subject": ref.subject,
            "time": rfc3339(),
            "datacontenttype": CONTENT_TYPE,
            "data": {
                "worker": self.worker_id,
                "topology": {"name": topo.name, "version": topo.version},
                "input": ref.as_data(),
                "output": {"topic": topo.output},
                "fields": [field_entry(a) for a in actions],
            },
        }
