"""When to emit lineage: a small state machine around one topology run.

``start()`` -> START. ``observe(leaves, actions)`` after each record -> RUNNING
when the observed shape or classification changed (at most one per
``min_interval`` seconds; a change inside that window is emitted by a later
``observe`` or ``tick``), and every ``heartbeat`` seconds. ``complete()`` ->
COMPLETE at shutdown; ``fail(exc)`` -> FAIL with an ``errorMessage`` facet that
holds no value. Every method returns the event to send, or ``None``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from streamsec.events.lineage import PRODUCER, RunState, kafka_namespace, run_event
from streamsec.events.lineage_shape import DEFAULT_MAX_FIELDS, ObservedShape
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = ["LineageTracker"]


class LineageTracker:
    def __init__(
        self,
        topology: Topology,
        *,
        bootstrap: str,
        run_id: str | None = None,
        heartbeat: float = 300.0,
        min_interval: float = 5.0,
        max_fields: int = DEFAULT_MAX_FIELDS,
        clock: Callable[[], datetime] | None = None,
        producer: str = PRODUCER,
    ) -> None:
        if heartbeat <= 0 or min_interval < 0:
            raise ValueError("heartbeat must be positive and min_interval not negative")
        self.topology = topology
        self.namespace = kafka_namespace(bootstrap)
        self.run_id = run_id if run_id is not None else str(uuid.uuid4())
        self.shape = ObservedShape(topology, max_fields=max_fields)
        self._heartbeat = heartbeat
        self._min_interval = min_interval
        self._clock = clock if clock is not None else _utc_now
        self._producer = producer
        self._state: str = "new"
        self._dirty = False
        self._last_emit: datetime | None = None

    @property
    def state(self) -> str:
        """``new``, ``running`` or ``ended``."""
        return self._state

    def start(self) -> dict[str, Any]:
        if self._state != "new":
            raise RuntimeError("the lineage run has already started")
        self._state = "running"
        return self._emit("START")

    def observe(
        self, leaves: Mapping[str, str], actions: Sequence[FieldAction]
    ) -> dict[str, Any] | None:
        """Feed one record's leaf paths -> JSON types and its field actions."""
        self._require_running()
        if self.shape.add(leaves, actions):
            self._dirty = True
        return self.tick()

    def tick(self) -> dict[str, Any] | None:
        """RUNNING if a change is pending and may be sent, or the heartbeat is due."""
        self._require_running()
        elapsed = self._elapsed()
        if (self._dirty and elapsed >= self._min_interval) or elapsed >= self._heartbeat:
            return self._emit("RUNNING")
        return None

    def complete(self) -> dict[str, Any]:
        self._require_running()
        self._state = "ended"
        return self._emit("COMPLETE")

    def fail(self, error: BaseException) -> dict[str, Any]:
        if self._state == "ended":
            raise RuntimeError("the lineage run has ended")
        self._state = "ended"
        return self._emit("FAIL", error=error)

    def _require_running(self) -> None:
        if self._state != "running":
            raise RuntimeError(f"the lineage run is {self._state}, not running")

    def _elapsed(self) -> float:
        if self._last_emit is None:
            return float("inf")
        return (self._clock() - self._last_emit).total_seconds()

    def _emit(self, state: RunState, *, error: BaseException | None = None) -> dict[str, Any]:
        now = self._clock()
        self._last_emit = now
        self._dirty = False
        return run_event(
            state,
            self.topology,
            self.shape,
            run_id=self.run_id,
            namespace=self.namespace,
            time=now,
            error=error,
            producer=self._producer,
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)
