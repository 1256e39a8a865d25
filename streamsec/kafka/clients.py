"""The producer, consumer and admin client factories: the only place streamsec builds
an aiokafka client (Faust builds its own from :func:`~streamsec.kafka.options.
faust_credentials`). Every client gets the connection's TLS/SASL options."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from streamsec.errors import BrokerError
from streamsec.kafka.connection import KafkaConnection
from streamsec.kafka.failures import diagnosed, translate

__all__ = [
    "admin_client",
    "check_connection",
    "create_topics",
    "new_admin",
    "new_consumer",
    "new_producer",
    "topic_partitions",
    "track_topics",
]


def new_producer(conn: KafkaConnection, **extra: Any) -> AIOKafkaProducer:
    """An idempotent producer acknowledged by all in-sync replicas (``extra`` overrides,
    e.g. ``transactional_id``)."""
    return AIOKafkaProducer(**conn.client(**{"acks": "all", "enable_idempotence": True, **extra}))


async def track_topics(producer: AIOKafkaProducer, topics: Iterable[str]) -> None:
    """Keep ``topics`` in every metadata request of ``producer``'s client, so their
    partition leaders stay known.

    aiokafka refreshes only the topics its client tracks, and a ``send`` tracks a topic
    only when the client's metadata does not already hold it. After a full-metadata
    fetch (made while the client tracks no topic, e.g. by Faust's topic declaration or
    the periodic refresh) every topic is known and none is tracked; the first topic
    tracked later makes every refresh ask for it alone, so the other topics drop out of
    the metadata. A batch waiting for such a topic then has no known leader: the
    sender asks for metadata in a busy loop (without that topic) until a new ``send``
    to it happens or the batch expires. Seen in a worker: its audit topic stalled, at
    ~60% CPU, for over ten minutes. Tracking a topic that is already tracked costs
    nothing; a new one waits for one metadata refresh."""
    client = producer.client
    for topic in topics:
        await client.add_topic(topic)


def new_consumer(conn: KafkaConnection, *topics: str, **extra: Any) -> AIOKafkaConsumer:
    """A ``read_committed`` consumer (``extra``: group_id, auto_offset_reset, or another
    isolation_level, ...)."""
    return AIOKafkaConsumer(
        *topics, **conn.client(**{"isolation_level": "read_committed", **extra})
    )


def new_admin(conn: KafkaConnection, **extra: Any) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**conn.client(**extra))


@asynccontextmanager
async def admin_client(
    conn: KafkaConnection, *, topic: str | None = None, doing: str = ""
) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client; any Kafka failure becomes one clear BrokerError."""
    admin = new_admin(conn, client_id="streamsec-admin")
    try:
        with diagnosed():
            try:
                await admin.start()
                yield admin
            except (KafkaError, OSError) as exc:
                raise translate(exc, conn, topic=topic, doing=doing) from None
    finally:
        await admin.close()


async def check_connection(
    conn: KafkaConnection, *, topics: Iterable[str] = (), timeout: float | None = None
) -> None:
    """Connect and authenticate once (a metadata request), and check that ``topics`` may
    be described (an ACL denial names the topic), or raise one clear error within
    ``timeout`` (default ``STREAMSEC_KAFKA_CONNECT_TIMEOUT``)."""
    limit = timeout or (conn.settings.kafka_connect_timeout if conn.settings else 20.0)
    try:
        async with asyncio.timeout(limit):
            async with admin_client(conn, doing="connecting") as admin:
                await admin.describe_cluster()
            for topic in topics:
                async with admin_client(conn, topic=topic, doing="reading") as admin:
                    described = await admin.describe_topics([topic])
                    code = int((described[0] if described else {}).get("error_code", 0) or 0)
                    if code == TopicAuthorizationFailedError.errno:
                        raise TopicAuthorizationFailedError(topic)
    except TimeoutError:
        with diagnosed():
            raise translate(TimeoutError(), conn, doing="connecting") from None


async def topic_partitions(admin: AIOKafkaAdminClient, topic: str) -> list[int]:
    """The topic's partition ids; BrokerError when it does not exist (a typo never
    auto-creates a topic: the topic is looked up, not subscribed to)."""
    described = await admin.describe_topics([topic])
    info = described[0] if described else {}
    code = int(info.get("error_code", 0) or 0)
    if code == TopicAuthorizationFailedError.errno:
        raise TopicAuthorizationFailedError(topic)
    parts = info.get("partitions") or []
    if code or not parts:
        raise BrokerError("no such topic", topic=topic)
    return sorted(int(p["partition"]) for p in parts)


async def create_topics(
    conn: KafkaConnection, names: Iterable[str], *, partitions: int = 1, replication: int = 1
) -> dict[str, int]:
    """Create the missing topics; returns every topic's partition count."""
    wanted = list(dict.fromkeys(names))
    async with admin_client(conn, doing="creating topics") as admin:
        existing = set(await admin.list_topics())
        new = [NewTopic(n, partitions, replication) for n in wanted if n not in existing]
        if new:
            await admin.create_topics(new)
        for _ in range(50):
            described = await admin.describe_topics(wanted)
            counts = {d["topic"]: len(d.get("partitions") or []) for d in described}
            if all(counts.get(n) for n in wanted):
                return counts
            await asyncio.sleep(0.2)
    raise BrokerError("the topics were not created", topic=",".join(wanted))
