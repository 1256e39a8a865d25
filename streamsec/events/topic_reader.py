"""Read a whole topic once, from its beginning to the end offsets taken at the start.

Used by ``streamsec audit verify --topic``. No consumer group (nothing is
committed); ``read_committed``, so the events of aborted transactions are skipped
and the end offsets are the last stable offsets. Partitions are read one after the
other, each in offset order: a chain keeps its order as long as it lives in one
partition (the worker keys audit events by chain id). Messages stream out, so a
large topic is never held in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from streamsec.errors import BrokerError

__all__ = ["TopicMessage", "iter_topic", "read_topic"]


@dataclass(frozen=True, slots=True)
class TopicMessage:
    partition: int
    offset: int
    value: bytes | None

    @property
    def label(self) -> str:
        return f"partition {self.partition} offset {self.offset}"


def _consumer(bootstrap: str) -> Any:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        client_id="streamsec-audit-verify",
    )


async def _partitions(bootstrap: str, topic: str) -> set[int]:
    """The topic's partition ids (listing first, so a typo never auto-creates a topic)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="streamsec-audit-verify")
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            raise BrokerError("no such topic", topic=topic)
        described = await admin.describe_topics([topic])
        parts = described[0].get("partitions", []) if described else []
        if not parts or described[0].get("error_code", 0):
            raise BrokerError("the topic's partitions cannot be described", topic=topic)
        return {int(p["partition"]) for p in parts}
    finally:
        await admin.close()


async def iter_topic(
    topic: str,
    *,
    bootstrap: str,
    idle_timeout: float = 30.0,
    consumer_factory: Callable[[str], Any] = _consumer,
    partitions_of: Callable[[str, str], Awaitable[set[int]]] = _partitions,
) -> AsyncIterator[TopicMessage]:
    """Every message of ``topic`` up to the end offsets, partition by partition, in offset
    order; raises BrokerError on failure. ``idle_timeout``: give up when no partition
    makes progress for that long."""
    try:
        partitions = await partitions_of(bootstrap, topic)
        consumer = consumer_factory(bootstrap)
        try:
            await consumer.start()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            ends = await consumer.end_offsets(tps)  # one snapshot for every partition
            for tp in tps:
                async for message in _read_partition(consumer, tp, ends[tp], idle_timeout):
                    yield message
        finally:
            await consumer.stop()
    except KafkaError as exc:
        raise BrokerError(f"could not read the topic ({type(exc).__name__})", topic=topic) from None


async def read_topic(topic: str, *, bootstrap: str, **options: Any) -> list[TopicMessage]:
    """:func:`iter_topic` into a list."""
    return [m async for m in iter_topic(topic, bootstrap=bootstrap, **options)]


async def _read_partition(
    consumer: Any, tp: TopicPartition, end: int, idle_timeout: float
) -> AsyncIterator[TopicMessage]:
    consumer.assign([tp])
    await consumer.seek_to_beginning(tp)
    loop = asyncio.get_running_loop()
    last_progress = loop.time()
    position = await consumer.position(tp)
    while position < end:
        batch = await consumer.getmany(tp, timeout_ms=500)
        for message in batch.get(tp, []):
            if message.offset < end:
                yield TopicMessage(tp.partition, message.offset, message.value)
        now_at = await consumer.position(tp)
        if now_at > position:
            last_progress = loop.time()
        position = now_at
        if position < end and loop.time() - last_progress > idle_timeout:
            raise BrokerError("timed out reading the topic", topic=tp.topic)
