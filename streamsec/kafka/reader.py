"""Read a whole topic once: the one "read a topic to its end" of streamsec.

From each partition's beginning to the end offsets taken at the start, partition
after partition, each in offset order (a chain or a key keeps its order as long as
it lives in one partition). No consumer group, nothing committed; ``read_committed``,
so records of aborted transactions are skipped and the end offsets are the last
stable offsets. The topic is looked up first, so a typo never auto-creates one.
Records stream out: a large topic is never held in memory.

Used by ``audit verify --topic``, ``rekey --from-topic`` and ``keys prove-forgotten
--topic``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from streamsec.errors import BrokerError
from streamsec.kafka.clients import admin_client, new_consumer, topic_partitions
from streamsec.kafka.connection import KafkaConnection
from streamsec.kafka.failures import diagnosed, translate

__all__ = ["TopicRecord", "read_to_end", "read_topic"]

Header = tuple[str, bytes]


@dataclass(frozen=True, slots=True)
class TopicRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()

    @property
    def coordinates(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    @property
    def label(self) -> str:
        return f"partition {self.partition} offset {self.offset}"


async def _partitions(conn: KafkaConnection, topic: str) -> list[int]:
    async with admin_client(conn, topic=topic, doing="describing the topic") as admin:
        return await topic_partitions(admin, topic)


def _consumer(conn: KafkaConnection) -> Any:
    return new_consumer(
        conn, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
        client_id="streamsec-reader",
    )


async def read_to_end(
    conn: KafkaConnection,
    topic: str,
    *,
    idle_timeout: float = 30.0,
    consumer_factory: Callable[[KafkaConnection], Any] = _consumer,
    partitions_of: Callable[[KafkaConnection, str], Awaitable[list[int]]] = _partitions,
) -> AsyncIterator[TopicRecord]:
    """Every record of ``topic`` up to the end offsets; raises :class:`BrokerError`
    (one clear line) on failure, or when no partition progresses for ``idle_timeout``."""
    partitions = await partitions_of(conn, topic)
    consumer = consumer_factory(conn)
    try:
        with diagnosed():
            try:
                await consumer.start()
                tps = [TopicPartition(topic, p) for p in sorted(partitions)]
                ends = await consumer.end_offsets(tps)  # one snapshot for every partition
            except (KafkaError, OSError) as exc:
                raise translate(exc, conn, topic=topic, doing="reading the topic") from None
        for tp in tps:
            async for record in _read_partition(consumer, conn, tp, ends[tp], idle_timeout):
                yield record
    finally:
        await consumer.stop()


async def read_topic(conn: KafkaConnection, topic: str, **options: Any) -> list[TopicRecord]:
    """:func:`read_to_end` into a list."""
    return [m async for m in read_to_end(conn, topic, **options)]


async def _read_partition(
    consumer: Any, conn: KafkaConnection, tp: TopicPartition, end: int, idle_timeout: float
) -> AsyncIterator[TopicRecord]:
    loop = asyncio.get_running_loop()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        position = await consumer.position(tp)
    except (KafkaError, OSError) as exc:
        raise translate(exc, conn, topic=tp.topic, doing="reading the topic") from None
    last_progress = loop.time()
    while position < end:
        try:
            with diagnosed():
                batch = await consumer.getmany(tp, timeout_ms=500)
                now_at = await consumer.position(tp)
        except (KafkaError, OSError) as exc:
            raise translate(exc, conn, topic=tp.topic, doing="reading the topic") from None
        for m in batch.get(tp, []):
            if m.offset < end:
                yield TopicRecord(
                    tp.topic, tp.partition, m.offset, m.key, m.value,
                    tuple((k, bytes(v)) for k, v in (m.headers or ())),
                )
        if now_at > position:
            last_progress = loop.time()
        position = now_at
        if position < end and loop.time() - last_progress > idle_timeout:
            raise BrokerError("timed out reading the topic", topic=tp.topic)
