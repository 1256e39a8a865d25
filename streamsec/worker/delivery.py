"""At-least-once delivery of a batch's messages through the Faust app's producer
(exactly-once delivery is :mod:`streamsec.worker.transactions`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import faust

from streamsec.pipeline.model import Outcome, OutMessage

__all__ = ["FaustDelivery", "OutputTopic"]

log = logging.getLogger(__name__)


class OutputTopic:
    """One output topic. ``send`` goes straight to the app's producer (a fifth of the
    cost of ``faust.Topic.send``) and returns the broker-acknowledgement future."""

    def __init__(self, app: faust.App, name: str) -> None:
        self.app = app
        self.name = name
        self._producer: Any = None

    async def send(
        self, *, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Any:
        if self._producer is None:
            self._producer = await self.app.maybe_start_producer()
        return await self._producer.send(self.name, key, value, None, None, headers)

    async def maybe_declare(self) -> None:
        await self.app.topic(self.name).maybe_declare()


class FaustDelivery:
    """At-least-once sends through the app's producer, awaiting each broker ack."""

    def __init__(self, app: faust.App, *, max_backoff: float = 10.0) -> None:
        self.app = app
        self.max_backoff = max_backoff
        self._topics: dict[str, OutputTopic] = {}

    def topic(self, name: str) -> OutputTopic:
        """One object per topic name (tests replace its ``send`` with an AsyncMock)."""
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = OutputTopic(self.app, name)
        return topic

    async def send_all(self, messages: Iterable[OutMessage]) -> None:
        """Send in order, then wait until the broker has acknowledged every one."""
        futures = [
            await self.topic(m.topic).send(key=m.key, value=m.value, headers=list(m.headers))
            for m in messages
        ]
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
