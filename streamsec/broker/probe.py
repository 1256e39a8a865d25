"""Is a Kafka broker answering? A synchronous Metadata request over a plain socket.

Metadata v4 (non-flexible encoding) is served by every broker from Kafka 1.0 to 4.x
(KIP-896 removed v0-v3 in 4.0). The probe sends one request and reads the broker
list, cluster id and controller id from the answer; anything else means "not ready".
"""

from __future__ import annotations

import socket
import ssl
import struct
from dataclasses import dataclass

from streamsec.errors import BrokerError

__all__ = [
    "BrokerNode",
    "ClusterInfo",
    "decode_metadata_response",
    "encode_metadata_request",
    "parse_bootstrap",
    "probe",
    "tcp_reachable",
]

_METADATA_API_KEY = 3
_METADATA_VERSION = 4
_CLIENT_ID = b"streamsec-probe"
_MAX_RESPONSE = 64 * 1024 * 1024


@dataclass(frozen=True)
class BrokerNode:
    node_id: int
    host: str
    port: int


@dataclass(frozen=True)
class ClusterInfo:
    cluster_id: str | None
    controller_id: int
    brokers: tuple[BrokerNode, ...]


def parse_bootstrap(bootstrap: str) -> list[tuple[str, int]]:
    """``"kafka://a:9092,b:9093"`` -> ``[("a", 9092), ("b", 9093)]`` (port 9092 if omitted)."""
    servers: list[tuple[str, int]] = []
    for raw in bootstrap.replace(";", ",").split(","):
        item = raw.strip()
        if "://" in item:
            item = item.split("://", 1)[1]
        item = item.rstrip("/")
        if not item:
            continue
        host, port = _split_host_port(item)
        servers.append((host, port))
    if not servers:
        raise BrokerError("empty bootstrap server list", key="STREAMSEC_BROKER")
    return servers


def _split_host_port(item: str) -> tuple[str, int]:
    if item.startswith("["):  # [::1]:9092
        host, _, rest = item[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif item.count(":") == 1:
        host, port_text = item.split(":")
    else:
        host, port_text = item, ""
    try:
        port = int(port_text) if port_text else 9092
    except ValueError:
        raise BrokerError("bad port in bootstrap server list", key="STREAMSEC_BROKER") from None
    if not host or not 0 < port < 65536:
        raise BrokerError("bad bootstrap server address", key="STREAMSEC_BROKER")
    return host, port


def encode_metadata_request(correlation_id: int) -> bytes:
    """A size-prefixed Metadata v4 request for all topics, without auto-creation."""
    header = struct.pack(
        ">hhih", _METADATA_API_KEY, _METADATA_VERSION, correlation_id, len(_CLIENT_ID)
    )
    body = struct.pack(">ib", -1, 0)  # topics: null (= all), allow_auto_topic_creation: false
    payload = header + _CLIENT_ID + body
    return struct.pack(">i", len(payload)) + payload


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str | None:
        length = self.take(">h")
        if length < 0:
            return None
        raw = self.data[self.pos : self.pos + length]
        if len(raw) != length:
            raise ValueError("truncated string")
        self.pos += length
        return raw.decode("utf-8")


def decode_metadata_response(payload: bytes, correlation_id: int) -> ClusterInfo:
    """Decode a Metadata v4 response (without its size prefix); ValueError if malformed."""
    reader = _Reader(payload)
    try:
        if reader.take(">i") != correlation_id:
            raise ValueError("correlation id mismatch")
        reader.take(">i")  # throttle_time_ms
        count = reader.take(">i")
        if not 0 <= count <= 100_000:
            raise ValueError("bad broker count")
        brokers = []
        for _ in range(count):
            node_id = reader.take(">i")
            host = reader.string() or ""
            port = reader.take(">i")
            reader.string()  # rack
            brokers.append(BrokerNode(node_id=node_id, host=host, port=port))
        cluster_id = reader.string()
        controller_id = reader.take(">i")
    except struct.error as exc:
        raise ValueError("truncated metadata response") from exc
    return ClusterInfo(cluster_id=cluster_id, controller_id=controller_id, brokers=tuple(brokers))


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(65536, size - len(chunks)))
        if not chunk:
            raise ConnectionError("connection closed")
        chunks.extend(chunk)
    return bytes(chunks)


def _probe_one(
    host: str, port: int, timeout: float, context: ssl.SSLContext | None = None
) -> ClusterInfo:
    correlation_id = 0x5EC
    with socket.create_connection((host, port), timeout=timeout) as raw:
        sock = context.wrap_socket(raw, server_hostname=host) if context else raw
        sock.settimeout(timeout)
        sock.sendall(encode_metadata_request(correlation_id))
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        if not 0 < size <= _MAX_RESPONSE:
            raise ValueError("bad response size")
        return decode_metadata_response(_recv_exact(sock, size), correlation_id)


def probe(
    bootstrap: str, *, timeout: float = 2.0, ssl_context: ssl.SSLContext | None = None
) -> ClusterInfo | None:
    """Cluster metadata from the first server that answers with at least one broker
    (over TLS with ``ssl_context``: the secured local broker's mTLS listener)."""
    for host, port in parse_bootstrap(bootstrap):
        try:
            info = _probe_one(host, port, timeout, ssl_context)
        except (OSError, ValueError):
            continue
        if info.brokers:
            return info
    return None


def tcp_reachable(bootstrap: str, *, timeout: float = 2.0) -> bool:
    """True if any bootstrap server accepts a TCP connection (for TLS/SASL clusters)."""
    for host, port in parse_bootstrap(bootstrap):
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            continue
    return False
