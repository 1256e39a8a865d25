"""Audit and lineage events for the records one topology agent handles.

Audit events come from :mod:`streamsec.events.audit` and are chained by the
:class:`~streamsec.events.trail.AuditTrail` it is given (one chain per source
partition). With ``granularity="batch"`` (the default) the records of a batch are
listed per source partition and :meth:`RecordEvents.flush` makes one
``records.batch`` event of each list (:mod:`streamsec.events.batch`); with
``"record"`` each record gets its own event as it is handled. The trail signs them
once per batch (:meth:`RecordEvents.checkpoints`),
digests what was delivered and closes dead writers' chains. Lineage events are
OpenLineage run events from a :class:`~streamsec.events.LineageTracker`: START with
the first record, RUNNING when the observed shape or classification changes (and on
a heartbeat), COMPLETE at shutdown or FAIL after a crash. Neither ever holds a record
value; the record key appears only as a pseudonym under the audit pseudonym key (no
data key).

Not thread-safe: an agent calls it from its single executor thread only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from streamsec.errors import StreamsecError
from streamsec.events.audit import (
    RecordRef,
    dead_letter_entry,
    record_dead_lettered,
    record_protected,
)
from streamsec.events.batch import BatchEntries
from streamsec.events.canonical import CanonicalizationError, canonical_json
from streamsec.events.lineage_tracker import LineageTracker
from streamsec.events.trail import AuditTrail
from streamsec.pipeline.model import SourceRecord
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = ["AuditBatchError", "Granularity", "RecordEvents"]

log = logging.getLogger(__name__)

Event = dict[str, Any]
Granularity = Literal["batch", "record"]


class AuditBatchError(StreamsecError):
    """A batch's audit events could not be built: nothing of the batch may go out."""

    reason = "audit"


class RecordEvents:
    def __init__(
        self,
        topology: Topology,
        trail: AuditTrail,
        *,
        bootstrap: str | None = None,
        lineage_heartbeat: float = 300.0,
        key_events: Callable[[], list[Event]] | None = None,
        granularity: Granularity = "batch",
    ) -> None:
        if granularity not in ("batch", "record"):
            raise ValueError("granularity is 'batch' or 'record'")
        self.granularity = granularity
        self._batches: dict[int, BatchEntries] = {}
        """Batch granularity: the entries of the batch being handled, per partition."""
        self._keys: list[Event] = []
        """Batch granularity: key-operation events to seal before the next batch event."""
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

    def _entries(self, source: SourceRecord) -> BatchEntries:
        if self._key_events is not None:
            self._keys += self._key_events()
        batch = self._batches.get(source.partition)
        if batch is None:
            batch = self._batches[source.partition] = BatchEntries(source.topic, source.partition)
        return batch

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
        if self.granularity == "batch":  # raises (and lists nothing) for a bad entry
            self._entries(source).add_protected(ref, actions)
            sealed: list[Event] = []
        else:
            audit = record_protected(self.topology, ref, actions, worker_id=self.worker_id)
            sealed = self.trail.seal(self._with_key_events(audit), source.partition)
        lineage = self._lineage_started()
        event = self._tracker_or_start().observe(leaves, actions)
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
        """Record granularity: the sealed event(s). Batch: the record is listed (never
        fails: an entry whose context cannot be canonicalised keeps its codes only)."""
        ref = self._ref(source)
        if self.granularity == "record":
            audit = record_dead_lettered(self.topology, ref, error, worker_id=self.worker_id)
            try:
                canonical_json(audit["data"])
            except CanonicalizationError:
                for name in ("path", "key_id"):
                    audit["data"].pop(name, None)
            return self.trail.seal(self._with_key_events(audit), source.partition)
        entry = dead_letter_entry(ref, error)
        batch = self._entries(source)
        try:
            batch.add(entry)
        except CanonicalizationError:
            batch.add({k: v for k, v in entry.items() if k not in ("path", "key_id")})
        return []

    def flush(self) -> dict[int, list[Event]]:
        """Batch granularity: per partition, the batch's sealed audit events (pending
        key-operation events, then the ``records.batch`` event). All or nothing: if one
        cannot be built, no chain moves and :class:`AuditBatchError` is raised."""
        batches, self._batches = self._batches, {}
        keys, self._keys = self._keys, []
        if not batches:
            return {}
        mark = self.trail.mark()
        out: dict[int, list[Event]] = {}
        pending = keys
        try:
            for partition, batch in batches.items():
                sealed = self.trail.seal(pending, partition) if pending else []
                pending = []
                event = batch.event(self.topology, worker_id=self.worker_id)
                sealed += self.trail.seal_batch(event, batch.records(), partition)
                out[partition] = sealed
        except Exception as exc:  # noqa: BLE001 - fail closed, whatever it was
            self.trail.rollback(mark)
            self._keys = keys + self._keys  # the key operations are still to be audited
            log.error("could not build the batch audit event: %s", type(exc).__name__)
            raise AuditBatchError("the batch audit event could not be built") from None
        return out

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
