"""Prometheus metrics of one worker, served on ``settings.metrics_port`` (0: disabled).

Labels come only from fixed vocabularies: topology names (from configuration),
entity types and action names (from the detector and the topology), and error
reason codes (class attributes of :mod:`streamsec.errors`). A label value that
does not look like one of those is replaced by ``other``, so a record value can
never become a label.
"""

from __future__ import annotations

import logging
import re
from collections import Counter as Tally
from collections.abc import Sequence
from itertools import chain
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from streamsec.pipeline.model import Outcome

__all__ = ["WorkerMetrics", "safe_label"]

log = logging.getLogger(__name__)

_LABEL: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
)
_BATCH_BUCKETS: Final = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def safe_label(value: str) -> str:
    return value if _LABEL.fullmatch(value) else "other"


class WorkerMetrics:
    """All worker metrics in their own registry (several workers can share a process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.records_in = Counter(
            "streamsec_records_in", "Raw records read", ["topology"], registry=r)
        self.records_out = Counter(
            "streamsec_records_out", "Protected records delivered", ["topology"], registry=r)
        self.dead_lettered = Counter(
            "streamsec_records_dead_lettered", "Records sent to the dead-letter topic",
            ["topology", "reason"], registry=r)
        self.detections = Counter(
            "streamsec_detections", "Sensitive entities detected", ["topology", "entity_type"],
            registry=r)
        self.actions = Counter(
            "streamsec_actions", "Field actions applied", ["topology", "action"], registry=r)
        self.errors = Counter(
            "streamsec_errors", "Errors by reason code (record failures and delivery retries)",
            ["topology", "reason"], registry=r)
        self.latency = Histogram(
            "streamsec_processing_latency_seconds",
            "From a record's broker timestamp to the acknowledgement of its outputs",
            ["topology"], buckets=_LATENCY_BUCKETS, registry=r)
        self.batch_seconds = Histogram(
            "streamsec_batch_seconds", "Time to protect and deliver one batch", ["topology"],
            buckets=_LATENCY_BUCKETS, registry=r)
        self.batch_size = Histogram(
            "streamsec_batch_size", "Records per batch", ["topology"], buckets=_BATCH_BUCKETS,
            registry=r)

    def serve(self, port: int, addr: str = "0.0.0.0") -> Any:  # noqa: S104 - scraped from outside
        """Start the HTTP endpoint; returns the server (``None`` when ``port`` is 0)."""
        if port == 0:
            return None
        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        log.info("metrics on port %d", port)
        return server

    def batch_in(self, topology: str, size: int) -> None:
        self.records_in.labels(safe_label(topology)).inc(size)
        self.batch_size.labels(safe_label(topology)).observe(size)

    def delivered(
        self, topology: str, outcomes: Sequence[Outcome], seconds: float, now: float
    ) -> None:
        topo = safe_label(topology)
        self.batch_seconds.labels(topo).observe(seconds)
        # Counted in one pass each (Counter's C loop): per outcome, Counter.update cost
        # about 1 us, on the worker's hot path.
        reasons = Tally(o.reason for o in outcomes if o.reason is not None)
        entities = Tally(chain.from_iterable(o.detections for o in outcomes))
        actions = Tally(chain.from_iterable(o.actions for o in outcomes))
        out = len(outcomes) - reasons.total()
        observe = self.latency.labels(topo).observe
        for outcome in outcomes:
            if outcome.source.timestamp:
                observe(max(0.0, now - outcome.source.timestamp))
        if out:
            self.records_out.labels(topo).inc(out)
        for reason, n in reasons.items():
            self.dead_lettered.labels(topo, safe_label(reason)).inc(n)
            self.errors.labels(topo, safe_label(reason)).inc(n)
        for entity, n in entities.items():
            self.detections.labels(topo, safe_label(entity)).inc(n)
        for action, n in actions.items():
            self.actions.labels(topo, safe_label(action)).inc(n)

    def error(self, topology: str, reason: str) -> None:
        self.errors.labels(safe_label(topology), safe_label(reason)).inc()
