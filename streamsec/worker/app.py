"""The Faust application of a worker: settings translated into ``faust.App`` here only.

Faust itself always runs ``at_least_once``. With ``processing_guarantee=exactly_once``
the agents send each partition's outputs and offsets in a Kafka transaction of their
own (:mod:`streamsec.worker.transactions`): Faust's own exactly-once mode binds each
transaction to the partition an output *key* hashes to in a co-partitioned topic,
which does not fit outputs (audit, lineage, dead letter) keyed independently of the
input. Faust's consumer then commits no offset of its own (see
:mod:`streamsec.worker.consumer`).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faust

from streamsec.kafka import KafkaConnection, client_options, connect, faust_credentials
from streamsec.pipeline.pipeline import MAX_OUTPUT_BYTES, RecordPipeline
from streamsec.pipeline.runtime import open_pipeline
from streamsec.settings import Settings
from streamsec.topology.model import Topology
from streamsec.worker.agents import attach_agents
from streamsec.worker.consumer import WorkerApp
from streamsec.worker.delivery import PRODUCER_BATCH_BYTES
from streamsec.worker.metrics import WorkerMetrics

__all__ = ["build_app", "faust_options", "worker_id_of"]

log = logging.getLogger(__name__)

# Faust logs every produced message (key and value) at DEBUG; dead letters hold raw
# records, so those loggers never go below INFO whatever the log level.
_VALUE_LOGGERS = ("faust.topics", "faust.channels", "faust.agents.agent")


def worker_id_of(settings: Settings) -> str:
    return settings.worker_id or f"{socket.gethostname()}-{os.getpid()}"


def faust_options(settings: Settings, bootstrap: str) -> dict[str, Any]:
    """Every ``faust.App`` option the worker sets, from the settings (the connection's
    TLS/SASL credentials come from :mod:`streamsec.kafka`, as every client's do)."""
    options: dict[str, Any] = {
        "broker": [f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip()],
        "processing_guarantee": "at_least_once",
        "consumer_auto_offset_reset": "earliest",
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": settings.topic_replication_factor,
        "topic_disable_leader": True,
        "store": "memory://",
        "autodiscover": False,
        "datadir": str(settings.home / "worker"),
        "web_enabled": settings.web_port != 0,
        "web_port": settings.web_port or 6066,
        "web_bind": "127.0.0.1",
        "broker_commit_interval": 1.0,
        # A dead worker's partitions move after 10 s (Kafka's default is 45 s). The
        # consumer heartbeats from its own thread, so protecting a batch never delays it.
        "broker_session_timeout": 10.0,
        "broker_heartbeat_interval": 1.0,
        # Never wait on a rebalance or stop for the streams' buffers to drain: Faust's
        # wait has no bound (a batch being cut when the fetcher stops never completes,
        # so the worker wedged) and dumps the events it waits on to the log. Unacked
        # events are simply read again by the partition's owner; exactly-once drops
        # the ones read before the rebalance (TopologyAgent._drop_stale).
        "stream_wait_empty": False,
        "producer_acks": -1,
        "producer_max_request_size": MAX_OUTPUT_BYTES + 64 * 1024,
        "producer_max_batch_size": PRODUCER_BATCH_BYTES,
        "stream_buffer_maxsize": max(4096, 4 * settings.batch_size),
    }
    credentials = faust_credentials(settings)
    if credentials is not None:
        options["broker_credentials"] = credentials
    return options


def build_app(
    settings: Settings,
    topologies: Sequence[Topology | RecordPipeline],
    *,
    metrics: WorkerMetrics | None = None,
    bootstrap: str | None = None,
    connection: KafkaConnection | None = None,
) -> faust.App:
    """A Faust app with one agent per topology.

    A :class:`Topology` gets the real protector (Presidio detector, keyring cipher,
    audit key from the keyring); a :class:`RecordPipeline` is used as given (tests,
    custom detectors). The connection defaults to the settings' (``bootstrap``
    overrides its address).
    """
    if not topologies:
        raise ValueError("a worker needs at least one topology")
    worker_id = worker_id_of(settings)
    pipelines = [
        t if isinstance(t, RecordPipeline) else open_pipeline(t, settings, worker_id=worker_id)
        for t in topologies
    ]
    inputs = [p.topology.input for p in pipelines]
    if len(set(inputs)) != len(inputs):
        raise ValueError("two topologies read the same input topic")
    if connection is None:
        connection = (
            KafkaConnection(bootstrap, client_options(settings), settings)
            if bootstrap else connect(settings)
        )
    for name in _VALUE_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
    options = faust_options(settings, connection.bootstrap)
    Path(options["datadir"]).mkdir(parents=True, exist_ok=True)
    app = WorkerApp(settings.app_id, **options)
    app.offsets_in_transactions = settings.processing_guarantee == "exactly_once"
    app.stream_buffer_bytes = settings.stream_buffer_bytes
    attach_agents(
        app, pipelines, settings=settings, metrics=metrics or WorkerMetrics(),
        connection=connection,
    )
    return app
