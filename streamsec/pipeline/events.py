"""Audit and lineage events for the records one topology agent handles.

Audit events come from :mod:`streamsec.events.audit` and are sealed in one
:class:`~streamsec.events.chain.AuditChain` per source partition. Lineage events are
OpenLineage run events from a :class:`~streamsec.events.LineageTracker`: START with
the first record, RUNNING when the observed shape or classification changes (and on
a heartbeat), COMPLETE at shutdown or FAIL after a crash. Neither ever holds a record
value; the record key appears only as a keyed HMAC.

Not thread-safe: an agent calls it from its single executor thread only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from streamsec.errors import StreamsecError
from streamsec.events.audit import (
    Pseudonymizer,
    RecordRef,
    record_dead_lettered,
    record_protected,
)
from streamsec.events.chain import AuditChain
from streamsec.events.lineage_tracker import LineageTracker
from streamsec.pipeline.model import SourceRecord
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = ["RecordEvents"]

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
        bootstrap: str | None = None,
        lineage_heartbeat: float = 300.0,
    ) -> None:
        self.topology = topology
        self.worker_id = worker_id
        self._key = audit_key
        self._key_id = audit_key_id
        self._checkpoint_every = checkpoint_every
        self._pseudonyms = Pseudonymizer(audit_key)
        self._chains: dict[int, AuditChain] = {}
        self.bootstrap = bootstrap
        """Set by the agent before the first record: names the Kafka datasets in lineage."""
        self._lineage_heartbeat = lineage_heartbeat
        self._tracker: LineageTracker | None = None

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
        self, source: SourceRecord, leaves: Mapping[str, str], actions: Sequence[FieldAction]
    ) -> tuple[list[Event], list[Event]]:
        """Sealed audit event(s) (with any checkpoint now due), and the lineage events
        now due: ``leaves`` is the input record's shape (path -> JSON type)."""
        ref = self._ref(source)
        audit = record_protected(self.topology, ref, actions, worker_id=self.worker_id)
        lineage = self._lineage_started()
        event = self._tracker_or_start().observe(leaves, actions)
        return self._chain(source.partition).append(audit), lineage + _some(event)

    def _tracker_or_start(self) -> LineageTracker:
        if self._tracker is None:
            self._tracker = LineageTracker(
                self.topology, bootstrap=self.bootstrap or "localhost:9092",
                heartbeat=self._lineage_heartbeat,
            )
        return self._tracker

    def _lineage_started(self) -> list[Event]:
        tracker = self._tracker_or_start()
        return [tracker.start()] if tracker.state == "new" else []

    def lineage_tick(self) -> list[Event]:
        """A RUNNING heartbeat (or a pending change) when one is due."""
        if self._tracker is None or self._tracker.state != "running":
            return []
        return _some(self._tracker.tick())

    def finish_lineage(self, error: BaseException | None = None) -> list[Event]:
        """COMPLETE (or FAIL with ``error``) for a run that started."""
        if self._tracker is None or self._tracker.state != "running":
            return []
        return [self._tracker.fail(error) if error else self._tracker.complete()]

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


def _some(event: Event | None) -> list[Event]:
    return [] if event is None else [event]
