"""Audit and lineage events for the records one topology agent handles.

Audit events come from :mod:`streamsec.events.audit` and are chained by the
:class:`~streamsec.events.trail.AuditTrail` it is given (one chain per source
partition), which signs them once per batch (:meth:`RecordEvents.checkpoints`),
digests what was delivered and closes dead writers' chains. Lineage events are
OpenLineage run events from a :class:`~streamsec.events.LineageTracker`: START with
the first record, RUNNING when the observed shape or classification changes (and on
a heartbeat), COMPLETE at shutdown or FAIL after a crash. Neither ever holds a record
value; the record key appears only as a pseudonym under the audit pseudonym key (no
data key).

Not thread-safe: an agent calls it from its single executor thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from streamsec.errors import StreamsecError
from streamsec.events.audit import RecordRef, record_dead_lettered, record_protected
from streamsec.events.lineage_tracker import LineageTracker
from streamsec.events.trail import AuditTrail
from streamsec.pipeline.model import SourceRecord
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = ["RecordEvents"]

Event = dict[str, Any]


class RecordEvents:
    def __init__(
        self,
        topology: Topology,
        trail: AuditTrail,
        *,
        bootstrap: str | None = None,
        lineage_heartbeat: float = 300.0,
        key_events: Callable[[], list[Event]] | None = None,
    ) -> None:
        self.topology = topology
        self.trail = trail
        self.worker_id = trail.actor
        self.bootstrap = bootstrap
        """Set by the agent before the first record: names the Kafka datasets in lineage."""
        self._lineage_heartbeat = lineage_heartbeat
        self._tracker: LineageTracker | None = None
        self._key_events = key_events
        """Unsealed key-operation events (keys this worker created) to seal next."""

    def _with_key_events(self, audit: Event) -> list[Event]:
        return [*(self._key_events() if self._key_events else ()), audit]

    def __repr__(self) -> str:
        return f"RecordEvents(topology={self.topology.name!r}, trail={self.trail!r})"

    def _ref(self, source: SourceRecord) -> RecordRef:
        return RecordRef.of(
            source.topic, source.partition, source.offset, source.key, self.trail.pseudonyms
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
        sealed = self.trail.seal(self._with_key_events(audit), source.partition)
        return sealed, lineage + _some(event)

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
        return self.trail.seal(self._with_key_events(audit), source.partition)

    def checkpoints(self) -> list[Event]:
        """The batch's signed checkpoints (one per chain it touched)."""
        return self.trail.checkpoints()

    def close(self, partitions: Iterable[int] | None = None) -> list[Event]:
        """Final checkpoints of the chains of ``partitions``; with none, of every chain
        and the worker's final signed digest."""
        return self.trail.close(partitions)

    def abandon(self, partitions: Iterable[int]) -> list[Event]:
        """Chains whose last events were not delivered (an aborted transaction): signed
        handover records ending each where delivery stopped."""
        return self.trail.abandon(partitions)


def _some(event: Event | None) -> list[Event]:
    return [] if event is None else [event]
