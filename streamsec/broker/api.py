"""What the rest of streamsec calls: one bootstrap address, local or external.

``STREAMSEC_BROKER`` set: that cluster is used as is (streamsec never starts or stops
it). Unset: the local broker under ``STREAMSEC_HOME`` is installed and started on demand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from streamsec.broker.layout import DEFAULT_INSTANCE
from streamsec.broker.local import LocalBroker
from streamsec.broker.probe import ClusterInfo, parse_bootstrap, probe, tcp_reachable
from streamsec.errors import BrokerError
from streamsec.settings import Settings

__all__ = ["BrokerStatus", "broker_status", "ensure_broker", "local_broker", "stop_broker"]


@dataclass(frozen=True)
class BrokerStatus:
    """``running``/``pid``/``installed``/``log_file`` are None for an external cluster."""

    mode: Literal["local", "external"]
    bootstrap: str | None
    reachable: bool
    cluster: ClusterInfo | None
    running: bool | None = None
    pid: int | None = None
    installed: bool | None = None
    kafka_version: str | None = None
    log_file: Path | None = None


def local_broker(settings: Settings, instance: str = DEFAULT_INSTANCE) -> LocalBroker:
    """The local broker instance under ``settings.home``."""
    return LocalBroker(settings.home, instance)


def _plaintext(settings: Settings) -> bool:
    return settings.security_protocol == "PLAINTEXT"


def _external_answers(settings: Settings, bootstrap: str, timeout: float) -> bool:
    # A SASL/TLS cluster cannot be probed with a plaintext request: TCP must do.
    if not _plaintext(settings):
        return tcp_reachable(bootstrap, timeout=timeout)
    return probe(bootstrap, timeout=timeout) is not None


def ensure_broker(settings: Settings, *, timeout: float = 120.0) -> str:
    """A bootstrap address that answers: ``STREAMSEC_BROKER``, or the local broker
    (downloaded and started if needed). Raises :class:`BrokerError` otherwise."""
    if settings.broker:
        parse_bootstrap(settings.broker)  # fail fast on a malformed value
        deadline = time.monotonic() + timeout
        while not _external_answers(settings, settings.broker, min(2.0, timeout)):
            if time.monotonic() >= deadline:
                raise BrokerError(
                    f"the Kafka cluster in STREAMSEC_BROKER does not answer after {timeout:.0f}s",
                    key="STREAMSEC_BROKER",
                )
            time.sleep(0.5)
        return settings.broker
    return local_broker(settings).start(timeout=timeout)


def stop_broker(settings: Settings, *, timeout: float = 30.0) -> bool:
    """Stop the local broker; True if it was running. An external cluster is left alone."""
    if settings.broker:
        return False
    return local_broker(settings).stop(timeout=timeout)


def broker_status(settings: Settings, *, timeout: float = 2.0) -> BrokerStatus:
    """Where the broker is and whether it answers (never starts anything)."""
    if settings.broker:
        cluster = probe(settings.broker, timeout=timeout) if _plaintext(settings) else None
        reachable = cluster is not None or (
            not _plaintext(settings) and tcp_reachable(settings.broker, timeout=timeout)
        )
        return BrokerStatus(
            mode="external", bootstrap=settings.broker, reachable=reachable, cluster=cluster
        )
    local = local_broker(settings).status(timeout=timeout)
    return BrokerStatus(
        mode="local",
        bootstrap=local.bootstrap,
        reachable=local.cluster is not None,
        cluster=local.cluster,
        running=local.running,
        pid=local.pid,
        installed=local.installed,
        kafka_version=local.kafka_version,
        log_file=local.log_file,
    )
