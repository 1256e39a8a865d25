"""At-least-once delivery of a batch's messages through the Faust app's producer
(exactly-once delivery is :mod:`streamsec.worker.transactions`).

Each message goes out through the producer's ``send`` (record batches of
:data:`PRODUCER_BATCH_BYTES` per partition, built by the producer), and the batch
waits for every acknowledgement. Sending whole record batches ourselves
(``create_batch``/``send_batch``) saved ~7 us per message but stalled on a topic just
created: from a fresh directory the demo delivered 1 of 302 records and no audit
event in 180 s (per-message sends: all 302 in 14.6 s), so it is not used.
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
        """``messages`` in order, one ``send`` each; their acknowledgement futures."""
        return await send_each(self, messages)

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
