"""Running a worker process: pipelines, Faust app, metrics endpoint, graceful stop.

``SIGTERM``/``SIGINT`` stop the worker gracefully (mode's worker handles them):
the batch in flight is delivered and acked, offsets are committed, the audit
chains are closed. ``SIGKILL`` loses nothing either: unacked records are read again.

The stop has a deadline, ``STREAMSEC_STOP_TIMEOUT`` (30 s): on the signal, detection
in progress is cut short (its batch is dropped unsent, so it is read again), and if
the graceful steps have not ended by the deadline (a broker that is down, a flush
that never completes) the process exits anyway with code 3; nothing is lost, since
offsets are only committed after delivery.

Ports: when the metrics or web port is taken (a second worker on the host), the next
free one of the following 32 is used and logged; 0 disables either.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import importlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import faust

from streamsec.detection import budget
from streamsec.detection.base import Detector
from streamsec.errors import ConfigError
from streamsec.kafka import KafkaConnection, check_connection, connect
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.pipeline.runtime import open_pipeline
from streamsec.settings import Settings
from streamsec.topology.model import Topology
from streamsec.worker.app import build_app, worker_id_of
from streamsec.worker.logs import install as install_log_filters
from streamsec.worker.metrics import WorkerMetrics

__all__ = [
    "GC_THRESHOLDS", "StoppingWorker", "fix_mmap_threshold", "free_port", "freeze_loaded",
    "load_factory", "preflight", "run_worker", "warm_up",
]

log = logging.getLogger(__name__)

GIL_SWITCH_SECONDS = 0.001
"""The worker's GIL switch interval (Python's default is 5 ms). A big batch is protected
in the agent's executor thread, which holds the GIL for long stretches of pure-Python
work; every time the event loop wakes up (a fetch response, a produce ack, a timer)
it waited up to the whole interval for it. At 1 ms the loop gets its turn five times
sooner (harness, structured records at 280 rec/s on the shared 2-core box: p99 255 and
163 ms at 5 ms, 48 and 80 ms at 1 ms; p50 42/35 -> 21/41 ms)."""

MMAP_THRESHOLD_BYTES = 128 * 1024
"""Allocations from this size up get pages of their own (``mmap``), given back when
freed. glibc starts there too but raises the threshold to the size of each large
block it frees, so after the NLP model has loaded (big temporary buffers, freed)
later large blocks come from the heap, which only shrinks from its top. Fixed at
128 kB, one worker's peak RSS after the harness's mixed run: 267 -> 249 MB
(steady 258 -> 224 MB after warm-up), same run, same code otherwise."""

_M_MMAP_THRESHOLD = -3  # <malloc.h>

GC_THRESHOLDS = (20_000, 20, 20)
"""The collector's thresholds in a worker (Python's are 700, 10, 10). A batch in flight
holds thousands of container objects (records, outcomes, messages, futures); at 700 a
young collection ran several times per batch, promoted the batch to the older
generations and so set off a full collection every few seconds, a pause of 26-52 ms
on a live worker (gc callbacks during the harness's paced pass), long enough to be its
p99. Objects freed by reference counting never count towards these thresholds."""



def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold (``mallopt(M_MMAP_THRESHOLD)``, which also turns its
    dynamic raising off). False, changing nothing, where there is no glibc ``mallopt``."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))


def load_factory(spec: str) -> Callable[[], Detector]:
    """``module:attribute``: a zero-argument callable returning a Detector."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError("the detector factory must look like 'module:callable'", key=spec)
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise ConfigError("the detector factory cannot be imported", key=spec) from None
    if not callable(factory):
        raise ConfigError("the detector factory is not callable", key=spec)
    return factory  # type: ignore[no-any-return]


def free_port(preferred: int, tries: int = 32, host: str = "127.0.0.1") -> int:
    """``preferred`` if nothing listens on it, else the next free port (0 stays 0)."""
    if preferred == 0:
        return 0
    for port in range(preferred, min(preferred + tries, 65536)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise ConfigError(f"no free port in {preferred}-{preferred + tries - 1}", key=str(preferred))


def _hard_exit(timeout: float) -> None:
    log.error("the worker did not stop within %.0f s; exiting (uncommitted records are read"
              " again)", timeout)
    logging.shutdown()
    sys.stdout.flush()
    os._exit(3)


def _stop_while_starting(signum: int, frame: Any) -> None:
    """SIGTERM before the worker runs (loading models, joining): nothing was read yet."""
    log.info("stopped while starting")
    raise SystemExit(0)


def freeze_loaded() -> None:
    """Collect, then move every object alive now out of the collector's sight
    (``gc.freeze``: a full collection no longer walks them) and set
    :data:`GC_THRESHOLDS`."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class StoppingWorker(faust.Worker):
    """mode's worker, plus the stop deadline: on the first stop signal detection in
    progress is cut short and a watchdog exits the process after ``stop_timeout``.
    Once started (group joined, agents running), what start-up built (Faust's and
    aiokafka's objects) is frozen out of the collector's sight like the models."""

    stop_timeout: float = 30.0

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        freeze_loaded()

    def _schedule_shutdown(self, signum: signal.Signals) -> None:
        if not getattr(self, "_watchdog", None):
            budget.stop_all()
            self._watchdog = threading.Timer(self.stop_timeout, _hard_exit, (self.stop_timeout,))
            self._watchdog.daemon = True
            self._watchdog.start()
            log.info("stopping (%s); deadline %.0f s", signum.name, self.stop_timeout)
        super()._schedule_shutdown(signum)


def warm_up(pipelines: Sequence[RecordPipeline]) -> None:
    """Load the detectors' models before joining the group, then move everything
    loaded so far out of the garbage collector's sight (:func:`freeze_loaded`): a full
    collection otherwise walks the whole NLP model, an 80 ms pause on the loop."""
    started = time.monotonic()
    for pipeline in pipelines:
        hook = getattr(pipeline.protector.detector, "warm_up", None)
        if callable(hook):
            hook()
    freeze_loaded()
    log.info("detectors ready in %.1f s", time.monotonic() - started)


def preflight(connection: KafkaConnection, topics: Sequence[str] = ()) -> None:
    """Connect and authenticate once before anything is loaded or consumed: a bad
    address, certificate or password stops start-up with one clear line (a
    :class:`~streamsec.errors.BrokerError`) within ``STREAMSEC_KAFKA_CONNECT_TIMEOUT``,
    and so does an input topic the worker's principal has no ACL for.
    Runs in a loop of its own, leaving none behind for Faust."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(check_connection(connection, topics=topics))
    finally:
        loop.close()


def run_worker(
    settings: Settings,
    topologies: Sequence[Topology],
    *,
    detector_factory: Callable[[], Detector] | None = None,
) -> int:
    """Run until stopped; the exit code is 0 after a graceful stop, 1 after a crash."""
    signal.signal(signal.SIGTERM, _stop_while_starting)  # mode's handler replaces it
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    fix_mmap_threshold()  # before the models load
    install_log_filters()
    settings = settings.model_copy(
        update={
            "metrics_port": free_port(settings.metrics_port, host="0.0.0.0"),  # noqa: S104
            "web_port": free_port(settings.web_port),
        }
    )
    log.info("ports: metrics %d, web %d (0: off)", settings.metrics_port, settings.web_port)
    connection = connect(settings)
    preflight(connection, [t.input for t in topologies])
    worker_id = worker_id_of(settings)
    pipelines = [
        open_pipeline(
            t, settings, worker_id=worker_id,
            detector=detector_factory() if detector_factory else None,
        )
        for t in topologies
    ]
    warm_up(pipelines)
    metrics = WorkerMetrics()
    app = build_app(settings, pipelines, metrics=metrics, connection=connection)
    server = metrics.serve(settings.metrics_port)
    worker = StoppingWorker(
        app, loglevel=settings.log_level.lower(), quiet=True, override_logging=False,
        redirect_stdouts=False,
    )
    worker.stop_timeout = settings.stop_timeout
    log.info("worker %s: %s", worker_id, ", ".join(t.name for t in topologies))
    code: Any = 0
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        code = exc.code
    finally:
        if server is not None:
            server.shutdown()
    crashed = getattr(app, "_crash_reason", None) or getattr(worker, "_crash_reason", None)
    if crashed is not None:
        log.error("worker crashed: %s", type(crashed).__name__)
        return 1
    return int(code or 0)
