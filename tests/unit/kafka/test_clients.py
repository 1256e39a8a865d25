"""The client factories: their defaults, and callers' overrides of them."""

from __future__ import annotations

from streamsec.kafka import KafkaConnection
from streamsec.kafka.clients import new_consumer

CONN = KafkaConnection("127.0.0.1:1")


async def test_a_consumer_reads_committed_unless_told_otherwise() -> None:
    assert new_consumer(CONN)._isolation_level == "read_committed"
    # `streamsec demo` reads end offsets with read_uncommitted: this raised a TypeError
    consumer = new_consumer(CONN, "t", isolation_level="read_uncommitted")
    assert consumer._isolation_level == "read_uncommitted"

