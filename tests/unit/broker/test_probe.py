from __future__ import annotations

import socket
import struct

import pytest

from streamsec.broker.probe import (
    BrokerNode,
    decode_metadata_response,
    encode_metadata_request,
    parse_bootstrap,
    probe,
    tcp_reachable,
)
from streamsec.errors import BrokerError
from tests.unit.broker.conftest import metadata_v4


def test_request_is_metadata_v4_for_all_topics() -> None:
    raw = encode_metadata_request(7)
    size, api_key, version, correlation = struct.unpack_from(">ihhi", raw)
    assert (api_key, version, correlation) == (3, 4, 7)
    assert size == len(raw) - 4
    assert raw.endswith(struct.pack(">ib", -1, 0))  # null topics, no auto-creation


def test_decode_reads_brokers_cluster_and_controller() -> None:
    info = decode_metadata_response(metadata_v4(9, [(1, "127.0.0.1", 19092)]), 9)
    assert info.brokers == (BrokerNode(1, "127.0.0.1", 19092),)
    assert info.cluster_id == "cluster-x"
    assert info.controller_id == 1


@pytest.mark.parametrize(
    "payload",
    [metadata_v4(8, [(1, "h", 1)]), metadata_v4(9, [(1, "h", 1)])[:15], b"", b"\x00\x00\x00\x09"],
)
def test_decode_rejects_wrong_correlation_or_truncation(payload: bytes) -> None:
    with pytest.raises(ValueError, match=r"correlation|truncated"):
        decode_metadata_response(payload, 9)


def test_probe_against_a_server_speaking_metadata(fake_broker) -> None:
    def handler(request: bytes) -> bytes:
        api_key, version, correlation = struct.unpack_from(">hhi", request)
        assert (api_key, version) == (3, 4)
        return metadata_v4(correlation, [(1, "127.0.0.1", 1234)])

    port = fake_broker(handler)
    info = probe(f"127.0.0.1:{port}", timeout=2)
    assert info is not None
    assert info.brokers[0].port == 1234


def test_probe_is_none_when_the_server_hangs_up_or_has_no_brokers(fake_broker) -> None:
    silent = fake_broker(lambda _req: None)
    empty = fake_broker(lambda req: metadata_v4(struct.unpack_from(">i", req, 4)[0], []))
    assert probe(f"127.0.0.1:{silent}", timeout=1) is None
    assert probe(f"127.0.0.1:{empty}", timeout=1) is None


def test_probe_tries_each_server_and_closed_ports_are_unreachable(fake_broker) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    good = fake_broker(lambda req: metadata_v4(struct.unpack_from(">i", req, 4)[0], [(1, "h", 1)]))
    assert probe(f"127.0.0.1:{closed}", timeout=1) is None
    assert not tcp_reachable(f"127.0.0.1:{closed}", timeout=1)
    assert probe(f"127.0.0.1:{closed},127.0.0.1:{good}", timeout=1) is not None
    assert tcp_reachable(f"127.0.0.1:{closed},127.0.0.1:{good}", timeout=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:19092", [("127.0.0.1", 19092)]),
        ("kafka://a:1,b:2", [("a", 1), ("b", 2)]),
        ("kafka://a:1;kafka://b", [("a", 1), ("b", 9092)]),
        (" a:1 , ", [("a", 1)]),
        ("[::1]:9093", [("::1", 9093)]),
    ],
)
def test_parse_bootstrap(text: str, expected: list[tuple[str, int]]) -> None:
    assert parse_bootstrap(text) == expected


@pytest.mark.parametrize("text", ["", " , ", "a:notaport", "a:0", "a:70000", ":9092"])
def test_parse_bootstrap_rejects_bad_values(text: str) -> None:
    with pytest.raises(BrokerError) as info:
        parse_bootstrap(text)
    assert info.value.key == "STREAMSEC_BROKER"
