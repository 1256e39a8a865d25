"""The project's own local Apache Kafka broker (single-node KRaft on loopback).

Public API::

    ensure_broker(settings) -> str        bootstrap; starts the local broker if needed
    stop_broker(settings) -> bool          stops the local broker
    broker_status(settings) -> BrokerStatus
    LocalBroker(home, instance)            start()/stop()/kill() one instance (tests)
    hold_broker(broker)                    context: broker up while leased (test sessions)

``STREAMSEC_BROKER`` points everything at an existing cluster instead.
"""

from __future__ import annotations

from streamsec.broker.api import (
    BrokerStatus,
    broker_status,
    ensure_broker,
    local_broker,
    stop_broker,
)
from streamsec.broker.install import KAFKA_VERSION
from streamsec.broker.layout import DEFAULT_INSTANCE, BrokerLayout
from streamsec.broker.lease import hold_broker
from streamsec.broker.local import LocalBroker, LocalStatus
from streamsec.broker.probe import ClusterInfo, parse_bootstrap, probe

__all__ = [
    "DEFAULT_INSTANCE",
    "KAFKA_VERSION",
    "BrokerLayout",
    "BrokerStatus",
    "ClusterInfo",
    "LocalBroker",
    "LocalStatus",
    "broker_status",
    "ensure_broker",
    "hold_broker",
    "local_broker",
    "parse_bootstrap",
    "probe",
    "stop_broker",
]
