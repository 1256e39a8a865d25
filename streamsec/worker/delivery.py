"""At-least-once delivery of a batch's messages through the Faust app's producer
(exactly-once delivery is :mod:`streamsec.worker.transactions`).

A batch's messages go out as aiokafka record batches (``create_batch`` /
``send_batch``): one per topic partition (a new one when it is full), in the
messages' order, and one broker-acknowledgement future per record batch instead of
one per message. The partition of each message is chosen by the producer's own
partitioner (Faust's ``producer_partitioner``, murmur2 of the key by default), as a
``send`` would. Every output topic is tracked in the producer's metadata before its
first batch (:func:`~streamsec.kafka.track_topics`): without that, a topic could drop
out of the metadata and its batch stall, which is why this path was once taken out
(the demo from a fresh directory delivered 1 of 302 records in 180 s).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

import faust

from streamsec.kafka import track_topics
from streamsec.pipeline.model import Outcome, OutMessage

__all__ = ["PRODUCER_BATCH_BYTES", "FaustDelivery", "OutputTopic", "send_each"]

log = logging.getLogger(__name__)

PRODUCER_BATCH_BYTES = 256 * 1024
"""The record batch per partition of the worker's producers, the app's and the
transactional ones (Faust's and aiokafka's default is 16 kB). A delivered batch of 64
records puts ~80 kB on the audit topic's partition; aiokafka keeps one request in
flight per partition, so at 16 kB that took five round trips one after the other.
Below the broker's default ``message.max.bytes`` (1 MB)."""


async def send_each(topic: OutputTopic, messages: Sequence[OutMessage]) -> list[Awaitable[Any]]:
    """One ``send`` per message: the acknowledgement futures (the path the agent tests
    observe, with ``send`` replaced by a mock)."""
    return [
        await topic.send(key=m.key, value=m.value, headers=list(m.headers)) for m in messages
    ]


class OutputTopic:
    """One output topic, written straight through the app's producer (a fifth of the
    cost of ``faust.Topic.send``)."""

    def __init__(self, app: faust.App, name: str) -> None:
        self.app = app
        self.name = name
        self._producer: Any = None

    async def _faust_producer(self) -> Any:
        if self._producer is None:
            producer = await self.app.maybe_start_producer()
            await track_topics(producer._ensure_producer(), [self.name])  # see track_topics
            self._producer = producer
        return self._producer

    async def send(
        self, *, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Any:
        """One message; returns its broker-acknowledgement future."""
        producer = await self._faust_producer()
        return await producer.send(self.name, key, value, None, None, headers)

    async def send_many(self, messages: Sequence[OutMessage]) -> list[Awaitable[Any]]:
        """``messages`` in order, as one record batch per partition (a new one when a
        batch is full); returns one acknowledgement future per record batch."""
        faust_producer = await self._faust_producer()
        producer = faust_producer._ensure_producer()  # the started AIOKafkaProducer
        choose = faust_producer.partitioner
        partitions = sorted(await producer.partitions_for(self.name))
        only = partitions[0] if len(partitions) == 1 else None
        batches: dict[int, Any] = {}
        futures: list[Awaitable[Any]] = []
        for m in messages:
            # One partition: the partitioner's answer for any key (murmur2 in pure
            # Python, ~3 us a message, is not worth asking).
            partition = only if only is not None else choose(m.key, partitions, partitions)
            headers = list(m.headers)
            batch = batches.get(partition)
            if batch is None:
                batch = batches[partition] = producer.create_batch()
            if batch.append(key=m.key, value=m.value, timestamp=None, headers=headers) is None:
                futures.append(await producer.send_batch(batch, self.name, partition=partition))
                batch = batches[partition] = producer.create_batch()
                batch.append(key=m.key, value=m.value, timestamp=None, headers=headers)
        for partition, batch in batches.items():
            futures.append(await producer.send_batch(batch, self.name, partition=partition))
        return futures

    async def maybe_declare(self) -> None:
        await self.app.topic(self.name).maybe_declare()


class FaustDelivery:
    """At-least-once sends through the app's producer, awaiting each broker ack."""

    def __init__(self, app: faust.App, *, max_backoff: float = 10.0) -> None:
        self.app = app
        self.max_backoff = max_backoff
        self._topics: dict[str, OutputTopic] = {}

    def topic(self, name: str) -> OutputTopic:
        """One object per topic name (tests replace its ``send_many`` with
        :func:`send_each` over a mocked ``send``)."""
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = OutputTopic(self.app, name)
        return topic

    async def send_all(self, messages: Iterable[OutMessage]) -> None:
        """Queue every message (per topic, in order), then wait until the broker has
        acknowledged them all."""
        by_topic: dict[str, list[OutMessage]] = {}
        for m in messages:
            by_topic.setdefault(m.topic, []).append(m)
        futures: list[Awaitable[Any]] = []
        for name, group in by_topic.items():
            futures += await self.topic(name).send_many(group)
        await asyncio.gather(*futures)

    async def deliver(self, outcomes: Sequence[Outcome], on_error: Any) -> None:
        """Retries the whole batch until it is delivered (duplicates are allowed here)."""
        delay = 0.2
        while True:
            try:
                await self.send_all(m for o in outcomes for m in o.messages)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retried; never acked until delivered
                log.warning("delivery failed (%s); resending the batch", type(exc).__name__)
                on_error("delivery")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
