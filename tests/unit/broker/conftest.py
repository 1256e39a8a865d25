"""Shared stand-ins: a TCP server that speaks just enough Kafka (Metadata v4)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator

import pytest

Handler = Callable[[bytes], bytes | None]
StartServer = Callable[[Handler], int]


def _string(text: str | None) -> bytes:
    if text is None:
        return struct.pack(">h", -1)
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def metadata_v4(correlation_id: int, brokers: list[tuple[int, str, int]]) -> bytes:
    body = struct.pack(">ii", correlation_id, 0) + struct.pack(">i", len(brokers))
    for node_id, host, port in brokers:
        body += struct.pack(">i", node_id) + _string(host) + struct.pack(">i", port) + _string(None)
    return body + _string("cluster-x") + struct.pack(">i", 1) + struct.pack(">i", 0)


@pytest.fixture
def fake_broker() -> Iterator[StartServer]:
    """Start a one-shot TCP server answering each request with ``handler(request)``."""
    servers: list[socket.socket] = []

    def start(handler: Handler) -> int:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        servers.append(server)

        def serve() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                with conn:
                    header = conn.recv(4)
                    if len(header) < 4:  # a bare TCP check
                        continue
                    size = struct.unpack(">i", header)[0]
                    request = b""
                    while len(request) < size:
                        request += conn.recv(size - len(request))
                    answer = handler(request)
                    if answer is not None:
                        conn.sendall(struct.pack(">i", len(answer)) + answer)

        threading.Thread(target=serve, daemon=True).start()
        return int(server.getsockname()[1])

    yield start
    for server in servers:
        server.close()


def answer_metadata(request: bytes) -> bytes:
    """A handler answering like a one-broker cluster."""
    correlation = struct.unpack_from(">i", request, 4)[0]
    return metadata_v4(correlation, [(1, "127.0.0.1", 9092)])


@pytest.fixture
def fake_kafka(fake_broker: StartServer) -> str:
    """Bootstrap address of a stand-in that answers Metadata requests."""
    return f"127.0.0.1:{fake_broker(answer_metadata)}"


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
