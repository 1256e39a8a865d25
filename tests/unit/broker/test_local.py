"""LocalBroker's error paths, with stand-ins for java (the real broker: tests/integration)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from streamsec.broker import config as cfg
from streamsec.broker.install import KAFKA_VERSION
from streamsec.broker.local import LocalBroker
from streamsec.errors import BrokerError

JAVA = """#!/bin/sh
case "$*" in
  *-version*) echo 'openjdk version "{version}" 2025-04-15' >&2; exit 0;;
  *kafka.tools.StorageTool*) echo "format called" ; exit {format_rc};;
  *kafka.Kafka*) echo "broker failing on purpose"; exit 1;;
esac
"""


@pytest.fixture
def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalBroker:
    """A broker whose download is already 'done' (empty libs + marker)."""
    local = LocalBroker(tmp_path / "home", "unit")
    dist = local.layout.dist(KAFKA_VERSION)
    dist.libs.mkdir(parents=True)
    dist.complete_marker.write_text(KAFKA_VERSION)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    return local


def _java(bin_dir: Path, *, version: str = "17.0.15", format_rc: int = 0) -> None:
    java = bin_dir / "java"
    java.write_text(JAVA.format(version=version, format_rc=format_rc))
    java.chmod(java.stat().st_mode | stat.S_IXUSR)


def _bin(broker: LocalBroker) -> Path:
    return Path(os.environ["PATH"])


def test_no_java(broker: LocalBroker) -> None:
    assert broker.installed()
    with pytest.raises(BrokerError, match="java not found"):
        broker.start(timeout=5)


def test_java_too_old(broker: LocalBroker) -> None:
    _java(_bin(broker), version="1.8.0_292")
    with pytest.raises(BrokerError, match="java 8 is too old"):
        broker.start(timeout=5)


def test_format_failure_names_its_log(broker: LocalBroker) -> None:
    _java(_bin(broker), format_rc=3)
    with pytest.raises(BrokerError, match=r"kafka storage format failed: see .*format\.log"):
        broker.start(timeout=5)
    assert "format called" in (broker.layout.log_dir / "format.log").read_text()
    text = broker.layout.server_properties.read_text()
    assert f"log.dirs={broker.layout.data_dir}" in text


def test_broker_exiting_at_start_up_names_the_logs(broker: LocalBroker) -> None:
    _java(_bin(broker))
    (broker.layout.data_dir).mkdir(parents=True)
    # Pretend the storage is formatted so start goes straight to the broker.
    cfg.save_state(broker.layout.state_file, cfg.BrokerState("id", *_two_ports(), KAFKA_VERSION))
    (broker.layout.data_dir / "meta.properties").write_text("cluster.id=id\n")
    with pytest.raises(BrokerError, match=r"exited during start-up: see .*server.log"):
        broker.start(timeout=20)
    assert "failing on purpose" in broker.layout.stdout_log.read_text()
    assert not broker.is_running()
    assert broker.stop() is False


def test_state_keeps_ports_and_cluster_id(broker: LocalBroker) -> None:
    _java(_bin(broker), format_rc=3)
    with pytest.raises(BrokerError):
        broker.start(timeout=5)
    first = cfg.load_state(broker.layout.state_file)
    with pytest.raises(BrokerError):
        broker.start(timeout=5)
    assert cfg.load_state(broker.layout.state_file) == first
    assert first is not None
    assert broker.bootstrap == f"127.0.0.1:{first.port}"
    assert first.port != first.controller_port


def test_busy_port_is_a_clear_error(broker: LocalBroker) -> None:
    _java(_bin(broker))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        cfg.save_state(
            broker.layout.state_file, cfg.BrokerState("id", busy, _two_ports()[1], KAFKA_VERSION)
        )
        with pytest.raises(BrokerError, match=f"port {busy} is in use"):
            broker.start(timeout=5)


def test_data_without_state_is_refused(broker: LocalBroker) -> None:
    broker.layout.data_dir.mkdir(parents=True)
    (broker.layout.data_dir / "meta.properties").write_text("x")
    with pytest.raises(BrokerError, match="broker data without its state file"):
        broker.start(timeout=5)


def test_explicit_ports_are_used_at_first_start(tmp_path: Path, broker: LocalBroker) -> None:
    port, controller = _two_ports()
    pinned = LocalBroker(tmp_path / "home", "pinned", port=port, controller_port=controller)
    _java(_bin(broker), format_rc=3)
    with pytest.raises(BrokerError):
        pinned.start(timeout=5)
    assert pinned.bootstrap == f"127.0.0.1:{port}"


def _two_ports() -> tuple[int, int]:
    first = cfg.pick_free_port()
    return first, cfg.pick_free_port(avoid=frozenset({first}))
