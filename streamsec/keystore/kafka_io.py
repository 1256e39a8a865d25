"""The Kafka side of the key registry, through the clients :mod:`streamsec.kafka` builds.

* :func:`ensure_topic`: the compacted, single-partition registry topic (created
  when missing; ``min.compaction.lag.ms`` keeps recent history for a while);
* :func:`follow`: read from the beginning, signal when the end is reached, then
  keep following until told to stop;
* :func:`produce`: write entries, acknowledged by all in-sync replicas, and
  return the last offset.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from streamsec.kafka import KafkaConnection, admin_client, new_consumer, new_producer

__all__ = ["Producer", "end_offset", "ensure_topic", "follow", "produce"]

_CONFIG = {"cleanup.policy": "compact", "min.compaction.lag.ms": "3600000"}
_FETCH_BYTES = 32 << 20  # per fetch: a million entries are ~500 MB to read at start


async def ensure_topic(conn: KafkaConnection, topic: str) -> None:
    async with admin_client(conn, topic=topic, doing="creating the key registry") as admin:
        if topic not in set(await admin.list_topics()):
            try:
                await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=_CONFIG)])
            except Exception as exc:
                if "exists" not in type(exc).__name__.lower():
                    raise


async def follow(
    conn: KafkaConnection,
    topic: str,
    apply: Callable[[list[tuple[int, bytes | None, bytes | None]]], None],
    ready: Future[None],
    stopped: Awaitable[None],
) -> None:
    """``apply([(offset, key, value), ...])`` for every fetched batch, in order (large
    fetches: start-up reads the whole topic); ``ready`` once the end offset taken at
    start is reached."""
    import asyncio

    consumer = new_consumer(
        conn, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
        client_id="streamsec-key-registry", max_partition_fetch_bytes=_FETCH_BYTES,
        fetch_max_bytes=_FETCH_BYTES,
    )  # fmt: skip
    tp = TopicPartition(topic, 0)
    stop = asyncio.ensure_future(stopped)
    try:
        await consumer.start()
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        if end == 0:
            ready.set_result(None)
        while not stop.done():
            fetched = (await consumer.getmany(tp, timeout_ms=100, max_records=50_000)).get(tp)
            if not fetched:
                continue
            last = fetched[-1].offset
            apply([(m.offset, m.key, m.value) for m in fetched])
            del fetched
            if not ready.done() and last + 1 >= end:
                ready.set_result(None)
    except BaseException as exc:
        if not ready.done():
            ready.set_exception(exc)
        raise
    finally:
        stop.cancel()
        await consumer.stop()


async def end_offset(probe: list[Any], conn: KafkaConnection, topic: str) -> int:
    """The registry's end offset now (the next offset to be written), asked by an idle
    consumer of its own (the follower's may be waiting in a fetch)."""
    if not probe:
        consumer = new_consumer(conn, group_id=None, enable_auto_commit=False,
                                client_id="streamsec-key-registry-probe")  # fmt: skip
        await consumer.start()
        probe.append(consumer)
    tp = TopicPartition(topic, 0)
    return int((await probe[0].end_offsets([tp]))[tp])


class Producer:
    """One producer per registry, started on first use and reused (a writer's batch of
    new keys costs one round trip, not a producer's start-up)."""

    def __init__(self, conn: KafkaConnection) -> None:
        self.conn = conn
        self._producer: Any = None

    async def send(self, topic: str, entries: Sequence[tuple[str, dict[str, Any]]]) -> int:
        if self._producer is None:
            producer = new_producer(self.conn, client_id="streamsec-key-registry")
            await producer.start()
            self._producer = producer
        futures = []
        for key, value in entries:
            data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
            futures.append(await self._producer.send(topic, data, key=key.encode(), partition=0))
        last = -1
        for future in futures:
            last = max(last, (await future).offset)
        return last

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


async def produce(
    conn: KafkaConnection, topic: str, entries: Sequence[tuple[str, dict[str, Any]]]
) -> int:
    """Write ``entries`` with a producer of its own; the last offset."""
    producer = Producer(conn)
    try:
        return await producer.send(topic, entries)
    finally:
        await producer.stop()
