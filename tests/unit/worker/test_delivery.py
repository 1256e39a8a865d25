"""FaustDelivery's send path: one aiokafka record batch per topic partition, each
output topic tracked in the producer's metadata before its first batch."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.partitioner import DefaultPartitioner

from streamsec.pipeline.model import OutMessage
from streamsec.worker.delivery import FaustDelivery


class _Batch:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = []

    def append(
        self, *, timestamp: Any, key: bytes | None, value: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> object | None:
        if len(self.records) >= self.capacity:
            return None
        self.records.append((key, value, headers))
        return object()


class _Client:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def add_topic(self, topic: str) -> Any:
        self.log.append(f"track {topic}")
        future = asyncio.get_running_loop().create_future()
        future.set_result(True)
        return future


class _Producer:
    """The calls ``send_many`` makes on aiokafka's producer, recorded."""

    def __init__(self, partitions: int, capacity: int) -> None:
        self.partitions = set(range(partitions))
        self.capacity = capacity
        self.sent: list[tuple[str, int, _Batch]] = []
        self.partitioner = DefaultPartitioner()
        self.log: list[str] = []
        self.client = _Client(self.log)

    def _ensure_producer(self) -> _Producer:
        return self

    async def partitions_for(self, topic: str) -> set[int]:
        return self.partitions

    def create_batch(self) -> _Batch:
        return _Batch(self.capacity)

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> Any:
        self.sent.append((topic, partition, batch))
        self.log.append(f"send {topic}")
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class _App:
    def __init__(self, producer: _Producer) -> None:
        self.producer = producer

    async def maybe_start_producer(self) -> _Producer:
        return self.producer


def _delivery(producer: _Producer) -> FaustDelivery:
    return FaustDelivery(_App(producer))  # type: ignore[arg-type]


async def test_one_record_batch_per_partition_in_message_order() -> None:
    producer = _Producer(partitions=3, capacity=100)
    messages = [
        OutMessage("out" if i % 2 else "audit", f"k{i % 7}".encode(), f"v{i}".encode(),
                   (("h", b"x"),))
        for i in range(60)
    ]
    await _delivery(producer).send_all(messages)
    partitioner = DefaultPartitioner()
    for topic in ("out", "audit"):
        batches = [(p, b) for t, p, b in producer.sent if t == topic]
        assert len({p for p, _ in batches}) == len(batches)  # one batch per partition
        for partition, batch in batches:
            mine = [m for m in messages if m.topic == topic
                    and partitioner(m.key, [0, 1, 2], [0, 1, 2]) == partition]
            assert batch.records == [(m.key, m.value, [("h", b"x")]) for m in mine]
    assert sum(len(b.records) for *_, b in producer.sent) == 60


async def test_a_full_batch_is_sent_and_a_new_one_started() -> None:
    producer = _Producer(partitions=1, capacity=4)
    messages = [OutMessage("out", None, f"v{i}".encode()) for i in range(10)]
    await _delivery(producer).send_all(messages)
    assert [len(b.records) for *_, b in producer.sent] == [4, 4, 2]
    values = [v for *_, b in producer.sent for _, v, _ in b.records]
    assert values == [m.value for m in messages]


async def test_a_failed_batch_fails_the_delivery() -> None:
    producer = _Producer(partitions=1, capacity=100)

    async def failing(batch: _Batch, topic: str, *, partition: int) -> Any:
        future = asyncio.get_running_loop().create_future()
        future.set_exception(RuntimeError("broker said no"))
        return future

    producer.send_batch = failing  # type: ignore[method-assign]
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


async def test_every_output_topic_is_tracked_before_its_first_batch() -> None:
    """Else a topic known from a full-metadata fetch drops out of the producer's
    metadata and its batch stalls (tests/integration/test_producer_metadata.py)."""
    producer = _Producer(partitions=2, capacity=100)
    delivery = _delivery(producer)
    messages = [OutMessage(t, b"k", b"v", ()) for t in ("out", "audit", "out", "lineage")]
    await delivery.send_all(messages)
    await delivery.send_all(messages)
    assert producer.log[:2] == ["track out", "send out"]
    for topic in ("out", "audit", "lineage"):
        assert producer.log.count(f"track {topic}") == 1
        assert producer.log.index(f"track {topic}") < producer.log.index(f"send {topic}")


async def test_a_one_partition_topic_never_asks_the_partitioner() -> None:
    producer = _Producer(partitions=1, capacity=100)
    asked: list[bytes | None] = []

    def partitioner(key: bytes | None, all_: list[int], available: list[int]) -> int:
        asked.append(key)
        return DefaultPartitioner()(key, all_, available)

    producer.partitioner = partitioner  # type: ignore[assignment]
    messages = [OutMessage("out", f"k{i}".encode(), b"v") for i in range(5)]
    await _delivery(producer).send_all(messages)
    assert asked == [] and [p for _, p, _ in producer.sent] == [0]
    assert [k for k, _, _ in producer.sent[0][2].records] == [m.key for m in messages]
    producer.partitions = {0, 1}
    await _delivery(producer).send_all(messages)
    assert asked == [m.key for m in messages]
