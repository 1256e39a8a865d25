from __future__ import annotations

import time
from pathlib import Path

import pytest

from streamsec.broker import broker_status, ensure_broker, stop_broker
from streamsec.errors import BrokerError
from streamsec.settings import Settings


def test_external_cluster_is_used_as_is(fake_kafka: str, tmp_path: Path) -> None:
    settings = Settings(broker=fake_kafka, home=tmp_path)
    assert ensure_broker(settings, timeout=5) == fake_kafka
    assert stop_broker(settings) is False  # never stopped by streamsec
    status = broker_status(settings)
    assert status.mode == "external"
    assert status.reachable
    assert status.cluster is not None
    assert status.cluster.cluster_id == "cluster-x"
    assert not (tmp_path / "kafka").exists()  # nothing local was created


def test_unreachable_external_cluster_fails_after_the_timeout(closed_port: int) -> None:
    settings = Settings(broker=f"127.0.0.1:{closed_port}")
    began = time.monotonic()
    with pytest.raises(BrokerError, match="does not answer after 1s") as info:
        ensure_broker(settings, timeout=1)
    assert 0.9 < time.monotonic() - began < 10
    assert info.value.key == "STREAMSEC_BROKER"
    assert broker_status(settings).reachable is False


def test_sasl_clusters_are_only_checked_for_tcp(closed_port: int, fake_broker) -> None:
    silent = fake_broker(lambda _request: None)  # accepts, never answers plaintext Kafka
    settings = Settings(broker=f"127.0.0.1:{silent}", security_protocol="SASL_SSL")
    assert ensure_broker(settings, timeout=2) == f"127.0.0.1:{silent}"
    assert broker_status(settings).reachable is True
    down = Settings(broker=f"127.0.0.1:{closed_port}", security_protocol="SASL_SSL")
    assert broker_status(down).reachable is False


def test_malformed_external_address_fails_fast() -> None:
    with pytest.raises(BrokerError, match="bad port"):
        ensure_broker(Settings(broker="host:port"), timeout=30)


def test_local_status_before_anything_was_installed(tmp_path: Path) -> None:
    status = broker_status(Settings(home=tmp_path))
    assert status.mode == "local"
    assert (status.installed, status.running, status.reachable) == (False, False, False)
    assert status.bootstrap is None
    assert stop_broker(Settings(home=tmp_path)) is False
