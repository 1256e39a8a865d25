from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest

from streamsec.broker import config as cfg
from streamsec.errors import BrokerError


def _parse(text: str) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")]
    return {key: value for key, value in pairs}


def test_server_properties_single_node_kraft_on_loopback(tmp_path: Path) -> None:
    props = _parse(
        cfg.render_server_properties(
            cfg.BrokerConfig(port=29092, controller_port=29093, data_dir=tmp_path / "data")
        )
    )
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:29093"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["log.dirs"] == str(tmp_path / "data")
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
    ):
        assert props[key] == "1", key
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert int(props["log.retention.hours"]) > 0
    assert int(props["log.retention.bytes"]) > 0
    assert "0.0.0.0" not in " ".join(props.values())


def test_log4j2_writes_to_the_given_file(tmp_path: Path) -> None:
    text = cfg.render_log4j2(tmp_path / "logs" / "server.log")
    assert f"appender.file.fileName = {tmp_path / 'logs' / 'server.log'}" in text
    assert "rootLogger.appenderRef.file.ref = FILE" in text
    assert "Console" not in text


def test_cluster_ids_are_kraft_uuids_never_starting_with_dash() -> None:
    ids = {cfg.new_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_state_round_trip_and_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert cfg.load_state(path) is None
    state = cfg.BrokerState(cluster_id="abc", port=1, controller_port=2, kafka_version="4.1.2")
    cfg.save_state(path, state)
    assert cfg.load_state(path) == state
    assert state.bootstrap == "127.0.0.1:1"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(BrokerError, match="corrupt broker state"):
        cfg.load_state(path)


def test_port_checks() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        assert not cfg.port_is_free(busy)
        free = cfg.pick_free_port(avoid=frozenset({busy}))
        assert free != busy
        assert cfg.port_is_free(free)
