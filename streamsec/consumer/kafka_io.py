"""The Kafka edge of the consumer and lifecycle commands (aiokafka).

* :func:`bootstrap_of`: ``--bootstrap``, ``STREAMSEC_BROKER``, or the local broker.
* :func:`read_to_end`: every record of a topic from its beginning to the end
  offsets taken at the start (``read_committed``, no consumer group).
* :class:`KafkaAuditSink`: delivers sealed audit events to an audit topic, keyed
  by chain id (one chain stays in order on one partition), acknowledged by all
  in-sync replicas before :meth:`~KafkaAuditSink.send` returns.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from streamsec.errors import BrokerError
from streamsec.settings import Settings

__all__ = [
    "KafkaAuditSink",
    "TopicRecord",
    "bootstrap_of",
    "client_options",
    "new_producer",
    "read_to_end",
]

Header = tuple[str, bytes]


def bootstrap_of(settings: Settings, override: str | None = None) -> str:
    """Where Kafka is: ``override``, ``settings.broker``, or the local broker (started)."""
    if override:
        return override
    if settings.broker:
        return settings.broker
    from streamsec.broker import ensure_broker

    return str(ensure_broker(settings))


def client_options(settings: Settings) -> dict[str, Any]:
    """Authentication options, the same the worker uses (none without a username)."""
    if settings.kafka_username is None:
        return {}
    from streamsec.worker.app import client_options as worker_options

    return worker_options(settings)


def new_producer(bootstrap: str, options: dict[str, Any] | None = None) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **(options or {})
    )


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


async def _assigned(consumer: Any, topic: str, timeout: float) -> list[TopicPartition]:
    """Every partition of ``topic`` (assigned without a group once metadata names them)."""
    deadline = time.monotonic() + timeout
    while not consumer.assignment():
        if time.monotonic() >= deadline:
            raise BrokerError("topic not found", topic=topic)
        await asyncio.sleep(0.1)
    return sorted(consumer.assignment(), key=lambda tp: tp.partition)


async def read_to_end(
    topic: str, *, bootstrap: str, options: dict[str, Any] | None = None,
    idle_timeout: float = 30.0,
) -> AsyncIterator[TopicRecord]:
    """Every record of ``topic`` up to the end offsets at the start; raises BrokerError."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest", isolation_level="read_committed", **(options or {}),
    )
    try:
        await consumer.start()
        tps = await _assigned(consumer, topic, idle_timeout)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        pending = {tp for tp in tps if await consumer.position(tp) < ends[tp]}
        last_progress = time.monotonic()
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=300)
            for tp, messages in sorted(batch.items()):
                for m in messages:
                    if m.offset < ends[tp]:
                        yield TopicRecord(
                            m.topic, m.partition, m.offset, m.key, m.value,
                            tuple((k, bytes(v)) for k, v in (m.headers or ())),
                        )
            if batch:
                last_progress = time.monotonic()
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
            if pending and time.monotonic() - last_progress > idle_timeout:
                raise BrokerError("no progress reading the topic", topic=topic)
    except KafkaError as exc:
        raise BrokerError(f"reading the topic failed: {type(exc).__name__}", topic=topic) from None
    finally:
        await consumer.stop()


class KafkaAuditSink:
    """Sends sealed audit events to ``topic``; :meth:`send` waits for the acks."""

    def __init__(self, bootstrap: str, topic: str, options: dict[str, Any] | None = None) -> None:
        self.topic = topic
        self._bootstrap = bootstrap
        self._options = options
        self._producer: AIOKafkaProducer | None = None

    def __repr__(self) -> str:
        return f"KafkaAuditSink(topic={self.topic!r})"

    async def start(self) -> AIOKafkaProducer:
        """The producer, created and started on first use (inside the event loop)."""
        if self._producer is None:
            producer = new_producer(self._bootstrap, self._options)
            try:
                await producer.start()
            except KafkaError as exc:
                raise BrokerError(
                    f"cannot reach Kafka: {type(exc).__name__}", topic=self.topic
                ) from None
            self._producer = producer
        return self._producer

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def send(self, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        producer = await self.start()
        try:
            futures = [
                await producer.send(
                    self.topic,
                    key=str(e.get("chain", "")).encode("utf-8"),
                    value=json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode(),
                )
                for e in events
            ]
            await asyncio.gather(*futures)
        except KafkaError as exc:
            raise BrokerError(
                f"audit events not delivered: {type(exc).__name__}", topic=self.topic
            ) from None
