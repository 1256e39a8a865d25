"""Delivering sealed audit events to an audit topic (the consumer and lifecycle commands).

Keyed by chain id (one chain stays in order on one partition), acknowledged by all
in-sync replicas before :meth:`KafkaAuditSink.send` returns. Each message follows the
CloudEvents Kafka protocol binding in structured mode (``content-type:
application/cloudevents+json``), like the worker's audit and lineage events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from streamsec.events.canonical import wire
from streamsec.kafka.clients import new_producer
from streamsec.kafka.connection import KafkaConnection
from streamsec.kafka.failures import diagnosed, translate
from streamsec.pipeline.headers import CLOUDEVENTS_HEADERS

__all__ = ["KafkaAuditSink"]


class KafkaAuditSink:
    """Sends sealed audit events to ``topic``; :meth:`send` waits for the acks."""

    def __init__(self, conn: KafkaConnection, topic: str) -> None:
        self.topic = topic
        self._conn = conn
        self._producer: AIOKafkaProducer | None = None

    def __repr__(self) -> str:
        return f"KafkaAuditSink(topic={self.topic!r})"

    async def start(self) -> AIOKafkaProducer:
        """The producer, created and started on first use (inside the event loop)."""
        if self._producer is None:
            producer = new_producer(self._conn)
            with diagnosed():
                try:
                    await producer.start()
                except (KafkaError, OSError) as exc:
                    await producer.stop()
                    raise translate(
                        exc, self._conn, topic=self.topic, doing="writing audit events"
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
        with diagnosed():
            try:
                futures = [
                    await producer.send(
                        self.topic,
                        key=str(e.get("chain", "")).encode("utf-8"),
                        value=wire(e),
                        headers=list(CLOUDEVENTS_HEADERS),
                    )
                    for e in events
                ]
                await asyncio.gather(*futures)
            except (KafkaError, OSError) as exc:
                raise translate(
                    exc, self._conn, topic=self.topic, doing="writing audit events"
                ) from None
