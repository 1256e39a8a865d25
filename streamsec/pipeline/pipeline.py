"""The worker's pure core: a batch of raw records in, one :class:`Outcome` per record out.

Synchronous and free of I/O, so the agent runs it off the event loop. It never
raises for a record: whatever goes wrong with one becomes its dead letter (the
original bytes, a reason code header and the source coordinates) plus an audit
event. A protected record is sent with its audit and lineage events and the
allowed input headers (``SourceRecord.headers``); a dead letter carries none.

Bounded work per record (each limit a setting, see the README "Limits" table):
bytes, depth, values and text characters are checked while decoding
(``too_large``, ``too_deep``, ``too_many_fields``); detection runs under a time
budget (``too_slow``). Records of up to :data:`HEAVY_BYTES` share one detection
batch, under the budget times their number (a batch that overruns is redone
record by record); a bigger record is detected alone under its own budget, so
it never holds its batch for longer than that. A dead letter that would not fit
the output limit carries a reference to its source instead of the bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from streamsec.detection import budget
from streamsec.errors import (
    ProtectionError,
    RecordTooLargeError,
    RecordTooSlowError,
    StreamsecError,
)
from streamsec.events.lineage_shape import leaf_types
from streamsec.pipeline.events import RecordEvents
from streamsec.pipeline.headers import protected_headers
from streamsec.pipeline.messages import (
    REFERENCE_FORM,
    audit_messages,
    dead_letter_message,
    lineage_messages,
)
from streamsec.pipeline.model import Outcome, OutMessage, SourceRecord
from streamsec.pipeline.record_keys import (
    MAX_KEY_BYTES,
    KeyResult,
    as_error,
    key_text,
    protect_keys,
)
from streamsec.protection.protector import Protector
from streamsec.protection.result import FieldAction, ProtectionFailure, ProtectionResult
from streamsec.records.decoding import decode_record, encode_record
from streamsec.topology.model import Topology

__all__ = [
    "HEAVY_BYTES", "MAX_KEY_BYTES", "MAX_OUTPUT_BYTES", "REFERENCE_FORM", "RecordPipeline",
]

log = logging.getLogger(__name__)

MAX_OUTPUT_BYTES: Final = 1_000_000
"""A protected record larger than this is dead-lettered (below Kafka's 1 MiB default)."""

HEAVY_BYTES: Final = 32_768
"""A record larger than this is detected alone, under its own time budget."""

_SHAPES_KEPT: Final = 256
"""Lineage leaf types kept per compiled shape number (more: start again)."""


class RecordPipeline:
    def __init__(
        self,
        topology: Topology,
        protector: Protector,
        events: RecordEvents,
        *,
        max_bytes: int,
        max_depth: int,
        max_output_bytes: int = MAX_OUTPUT_BYTES,
        max_fields: int | None = None,
        max_chars: int | None = None,
        time_budget: float | None = None,
    ) -> None:
        self.topology = topology
        self.protector = protector
        self.events = events
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_output_bytes = max_output_bytes
        self.max_fields = max_fields
        self.max_chars = max_chars
        self.time_budget = time_budget
        self._keys: dict[bytes, KeyResult] = {}
        self._leaves: dict[int, dict[str, str]] = {}

    # -- the batch --------------------------------------------------------------------
    def process(self, batch: Sequence[SourceRecord]) -> list[Outcome]:
        """One outcome per record, in order (audit events are sealed in that order)."""
        failed: dict[int, StreamsecError] = {}
        decoded: dict[int, dict[str, Any]] = {}
        for i, source in enumerate(batch):
            if source.value is None:
                continue
            try:
                if source.key is not None:
                    key_text(source.key)
                decoded[i] = decode_record(
                    source.value, max_bytes=self.max_bytes, max_depth=self.max_depth,
                    max_fields=self.max_fields, max_chars=self.max_chars,
                )
            except Exception as exc:  # noqa: BLE001 - one record's failure is data
                failed[i] = as_error(exc)
        results = self._protect_all(batch, decoded)
        keys = [s.key for i, s in enumerate(batch) if i not in failed and s.key is not None]
        self._keys = protect_keys(self.protector, keys, self.time_budget)
        outcomes: list[Outcome] = []
        for i, source in enumerate(batch):
            if i in failed:
                outcomes.append(self._dead_letter(source, failed[i]))
            elif i in results:
                outcomes.append(self._finish(source, decoded[i], results[i]))
            else:
                outcomes.append(self._tombstone(source))
        return self._signed(outcomes)

    def _signed(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Each partition's batch audit event (batch granularity), then its chain's
        signed checkpoint, go out with the last outcome of that partition (in that
        partition's transaction, after its records). If the batch event cannot be
        built, this raises (:class:`~streamsec.pipeline.events.AuditBatchError`):
        no record of the batch goes out without its audit."""
        batch = self.events.flush()
        checkpoints = self.events.checkpoints()
        if not outcomes:
            return outcomes
        last = {o.source.partition: i for i, o in enumerate(outcomes)}
        extra: dict[int, list[dict[str, Any]]] = {}
        for partition, events in batch.items():
            extra.setdefault(last.get(partition, len(outcomes) - 1), []).extend(events)
        for checkpoint in checkpoints:
            i = last.get(checkpoint["data"]["partition"], len(outcomes) - 1)
            extra.setdefault(i, []).append(checkpoint)
        for i, events in extra.items():
            o = outcomes[i]
            outcomes[i] = replace(o, messages=(*o.messages, *audit_messages(self.topology, events)))
        return outcomes

    def _protect_all(
        self, batch: Sequence[SourceRecord], decoded: dict[int, dict[str, Any]]
    ) -> dict[int, ProtectionResult | ProtectionFailure]:
        """Light records in one detection batch, heavy ones alone, each under its budget."""
        light = [i for i in decoded if len(batch[i].value or b"") <= HEAVY_BYTES]
        heavy = [i for i in decoded if len(batch[i].value or b"") > HEAVY_BYTES]
        results: dict[int, ProtectionResult | ProtectionFailure] = {}
        if light:
            records = [decoded[i] for i in light]
            seconds = None if self.time_budget is None else self.time_budget * len(light)
            try:
                results.update(zip(light, self._protect(records, seconds), strict=True))
            except RecordTooSlowError:  # redo record by record: each gets its own budget
                heavy = light + heavy
        for i in sorted(heavy):
            try:
                (results[i],) = self._protect([decoded[i]], self.time_budget)
            except RecordTooSlowError as exc:
                results[i] = ProtectionFailure(exc)
        return results

    def _protect(
        self, records: list[dict[str, Any]], seconds: float | None
    ) -> Sequence[ProtectionResult | ProtectionFailure]:
        """``protector.protect_many`` under a time budget (raises RecordTooSlowError)."""
        try:
            with budget.deadline(seconds):
                results = self.protector.protect_many(records)
            if len(results) != len(records):
                raise ProtectionError("protector returned the wrong number of results")
            return results
        except RecordTooSlowError:
            raise
        except Exception as exc:  # noqa: BLE001 - the contract says never; fail closed anyway
            error = as_error(exc)
            return [ProtectionFailure(error) for _ in records]

    # -- one record -------------------------------------------------------------------
    def _finish(
        self, source: SourceRecord, record: dict[str, Any],
        result: ProtectionResult | ProtectionFailure,
    ) -> Outcome:
        if isinstance(result, ProtectionFailure):
            return self._dead_letter(source, result.error)
        try:
            key, key_action = self._protect_key(source.key)
            value = encode_record(result.record)
            if len(value) > self.max_output_bytes:
                raise RecordTooLargeError(
                    f"protected record is {len(value)} bytes, over {self.max_output_bytes}"
                )
            actions = (*result.actions, key_action) if key_action else result.actions
            detections = tuple(
                f.entity_type for fc in result.classification.fields for f in fc.findings
            ) + (key_action.entity_types if key_action else ())
            leaves = self._leaf_types(record, result.shape)
            return self._protected(source, key, value, actions, detections, leaves)
        except Exception as exc:  # noqa: BLE001 - one record's failure is data
            return self._dead_letter(source, as_error(exc))

    def _leaf_types(self, record: dict[str, Any], shape: int | None) -> dict[str, str]:
        """The record's lineage leaf types, once per compiled shape (a function of it)."""
        if shape is None:
            return leaf_types(record)
        leaves = self._leaves.get(shape)
        if leaves is None:
            if len(self._leaves) >= _SHAPES_KEPT:
                self._leaves.clear()
            leaves = self._leaves[shape] = leaf_types(record)
        return leaves

    def _tombstone(self, source: SourceRecord) -> Outcome:
        """A null value (a deletion on a compacted topic) passes on, with its key protected
        exactly as its record's was (the key alone decides), so compaction deletes it."""
        try:
            key, key_action = self._protect_key(source.key)
            actions = (key_action,) if key_action else ()
            detections = key_action.entity_types if key_action else ()
            return self._protected(source, key, None, actions, detections, {})
        except Exception as exc:  # noqa: BLE001 - one record's failure is data
            return self._dead_letter(source, as_error(exc))

    def _protect_key(self, key: bytes | None) -> tuple[bytes | None, FieldAction | None]:
        """A sensitive key protected per the topology's policy (a function of the key
        alone: a record and its tombstone get the same protected key)."""
        if key is None:
            return None, None
        result = self._keys.get(key)
        if result is None:
            (result,) = protect_keys(self.protector, [key], self.time_budget).values()
        if isinstance(result, ProtectionFailure):
            raise result.error
        protected, action = result
        return (protected.encode("utf-8") if action else key), action

    def _protected(
        self, source: SourceRecord, key: bytes | None, value: bytes | None,
        actions: tuple[FieldAction, ...], detections: tuple[str, ...],
        leaves: dict[str, str],
    ) -> Outcome:
        topo = self.topology
        out = OutMessage(topo.output, key, value, protected_headers(topo, source, actions))
        audit, lineage = self.events.protected(source, leaves, actions)  # last: may raise
        messages = (
            out,
            *audit_messages(self.topology, audit),
            *lineage_messages(self.topology, lineage),
        )
        return Outcome(
            source, messages, None, detections, tuple(a.action for a in actions)
        )

    def dead_letter(self, source: SourceRecord, error: StreamsecError) -> Outcome:
        """:meth:`_dead_letter` of a record outside :meth:`process` (a line that is not
        even a record), with its own audit event and checkpoint."""
        return self._signed([self._dead_letter(source, error)])[0]

    def _dead_letter(self, source: SourceRecord, error: StreamsecError) -> Outcome:
        """Its dead letter (:func:`~streamsec.pipeline.messages.dead_letter_message`)
        and audit event."""
        audit = self.events.dead_lettered(source, error)  # fail closed: never without it
        letter = dead_letter_message(
            self.topology, source, error, max_output_bytes=self.max_output_bytes
        )
        return Outcome(source, (letter, *audit_messages(self.topology, audit)), error.reason)

    def audit_records(self, events: list[dict[str, Any]]) -> list[OutMessage]:
        """Messages of audit events built outside a batch (handover records)."""
        return audit_messages(self.topology, events)

    def audit_digest(self, *, final: bool = False) -> list[OutMessage]:
        """The worker's signed digest (see :meth:`AuditTrail.digest`)."""
        return audit_messages(self.topology, self.events.trail.digest(final=final))

    def handover(
        self, chain: str, last_seq: int, last_digest: str, stream: str | None = None
    ) -> list[OutMessage]:
        """A signed record closing a dead writer's chain at ``last_seq``."""
        event = self.events.trail.handover(chain, last_seq, last_digest, stream=stream)
        return audit_messages(self.topology, [event])

    def lineage_tick(self) -> list[OutMessage]:
        return lineage_messages(self.topology, self.events.lineage_tick())

    def close_chains(
        self, partitions: Sequence[int] | None = None, *, error: BaseException | None = None
    ) -> list[OutMessage]:
        """Final audit checkpoints for ``partitions`` (default: all), to send on revoke/stop;
        at stop (all partitions) also the final signed digest and the lineage COMPLETE,
        or FAIL after a crash."""
        messages = audit_messages(self.topology, self.events.close(partitions))
        if partitions is None:
            messages += lineage_messages(self.topology, self.events.finish_lineage(error))
        return messages

