"""FaustDelivery's send path: one producer ``send`` per message, in order, every
acknowledgement awaited; a failed send is retried, never dropped."""

from __future__ import annotations

import asyncio
from typing import Any

import faust

from streamsec.pipeline.model import OutMessage
from streamsec.worker.delivery import FaustDelivery


class _Producer:
    """The calls ``send_many`` makes on Faust's producer, recorded."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None,
                   partition: Any, timestamp: Any, headers: list[tuple[str, bytes]]) -> Any:
        self.sent.append((topic, key, value, headers))
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def _delivery(producer: Any) -> FaustDelivery:
    delivery = FaustDelivery(faust.App("delivery-test", broker="kafka://127.0.0.1:1"))
    for name in ("out", "audit"):
        delivery.topic(name)._producer = producer
    return delivery


async def test_each_message_is_sent_once_in_order_per_topic() -> None:
    producer = _Producer()
    messages = [
        OutMessage("out" if i % 2 else "audit", f"k{i % 7}".encode(), f"v{i}".encode(),
                   (("h", b"x"),))
        for i in range(60)
    ]
    await _delivery(producer).send_all(messages)
    for topic in ("out", "audit"):
        assert [(k, v, h) for t, k, v, h in producer.sent if t == topic] == [
            (m.key, m.value, [("h", b"x")]) for m in messages if m.topic == topic]
    assert len(producer.sent) == 60


async def test_a_failed_send_fails_the_delivery() -> None:
    producer = _Producer()

    async def failing(*args: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        future.set_exception(RuntimeError("broker said no"))
        return future

    producer.send = failing  # type: ignore[method-assign]
    errors: list[str] = []
    delivery = _delivery(producer)
    delivery.max_backoff = 0.01
    task = asyncio.ensure_future(
        delivery.deliver([_outcome()], errors.append)
    )
    for _ in range(200):  # bounded: the batch is retried, never dropped
        if len(errors) >= 2:
            break
        await asyncio.sleep(0.01)
    assert not task.done() and errors[:2] == ["delivery", "delivery"]
    task.cancel()


def _outcome() -> Any:
    from streamsec.pipeline.model import Outcome, SourceRecord

    source = SourceRecord(topic="in", partition=0, offset=0, key=None, value=b"{}",
                          timestamp=0, headers=())
    return Outcome(source=source, messages=(OutMessage("out", None, b"v"),))


class _Client:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def add_topic(self, topic: str) -> Any:
        self.log.append(f"track {topic}")
        future = asyncio.get_running_loop().create_future()
        future.set_result(True)
        return future


class _TrackedProducer(_Producer):
    """Faust's producer over an aiokafka client that records what it tracks."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log
        self.client = _Client(log)

    def _ensure_producer(self) -> Any:
        return self

    async def send(self, topic: str, *args: Any) -> Any:
        self.log.append(f"send {topic}")
        return await super().send(topic, *args)


async def test_every_output_topic_is_tracked_before_its_first_send() -> None:
    """Else a topic known from a full-metadata fetch drops out of the producer's
    metadata and its batches stall (tests/integration/test_producer_metadata.py)."""
    log: list[str] = []
    producer = _TrackedProducer(log)

    class _App:
        async def maybe_start_producer(self) -> Any:
            return producer

    delivery = FaustDelivery(_App())  # type: ignore[arg-type]
    messages = [OutMessage(t, b"k", b"v", ()) for t in ("out", "audit", "out", "lineage")]
    await delivery.send_all(messages)
    await delivery.send_all(messages)
    assert log[:2] == ["track out", "send out"]
    for topic in ("out", "audit", "lineage"):
        assert log.count(f"track {topic}") == 1
        assert log.index(f"track {topic}") < log.index(f"send {topic}")
