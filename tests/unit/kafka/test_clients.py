"""The factories give every client the connection's options; callers may override."""

from __future__ import annotations

from streamsec.kafka import KafkaConnection, new_admin, new_consumer, new_producer


async def test_defaults_and_overrides() -> None:
    conn = KafkaConnection("h:1", {"security_protocol": "PLAINTEXT", "client_id": "c"})
    consumer = new_consumer(conn, "t")
    assert consumer._isolation_level == "read_committed"
    assert new_consumer(conn, isolation_level="read_uncommitted")._isolation_level == (
        "read_uncommitted"
    )
    producer = new_producer(conn, transactional_id="tx")
    assert producer._txn_manager is not None  # transactional: idempotent, acks=all
    assert producer.client._bootstrap_servers == "h:1"
    admin = new_admin(conn)
    assert admin._client._bootstrap_servers == "h:1"
    await producer.client.close()
    await consumer._client.close()
