from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError

from streamsec.errors import BrokerError, KafkaConnectError
from streamsec.kafka import KafkaConnection, read_topic


@dataclass
class Message:
    offset: int
    value: bytes | None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


class FakeConsumer:
    """Two partitions; partition 1 ends on a transaction marker (no message at end - 1);
    messages written after the end offsets were taken must not be read."""

    def __init__(self, *, stall: bool = False) -> None:
        self.logs = {
            0: [Message(0, b"a0"), Message(1, b"a1"), Message(2, b"late")],
            1: [Message(0, b"b0"), Message(1, None)],
        }
        self.ends = {0: 2, 1: 3}
        self.stall = stall
        self.positions: dict[TopicPartition, int] = {}
        self.started = self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def assign(self, tps: list[TopicPartition]) -> None:
        self.positions = {tp: 0 for tp in tps}

    async def seek_to_beginning(self, *tps: TopicPartition) -> None:
        for tp in tps:
            self.positions[tp] = 0

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.ends[tp.partition] for tp in tps}

    async def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    async def getmany(self, *tps: TopicPartition, timeout_ms: int = 0) -> dict[Any, list[Any]]:
        if self.stall:
            return {}
        out = {}
        for tp in tps:
            batch = [m for m in self.logs[tp.partition] if m.offset >= self.positions[tp]][:1]
            if batch:
                out[tp] = batch
                self.positions[tp] = batch[-1].offset + 1
            elif tp.partition == 1:
                self.positions[tp] = self.ends[1]  # skip the transaction marker
        return out


CONN = KafkaConnection("x:1")


async def partitions_of(conn: KafkaConnection, topic: str) -> list[int]:
    if topic != "audit":
        raise BrokerError("no such topic", topic=topic)
    return [1, 0]


async def test_reads_every_partition_up_to_the_end_offsets() -> None:
    fake = FakeConsumer()
    messages = await read_topic(
        CONN, "audit", consumer_factory=lambda _b: fake, partitions_of=partitions_of
    )
    assert [(m.partition, m.offset, m.value) for m in messages] == [
        (0, 0, b"a0"),
        (0, 1, b"a1"),
        (1, 0, b"b0"),
        (1, 1, None),
    ]
    assert messages[0].label == "partition 0 offset 0"
    assert fake.started
    assert fake.stopped


async def test_missing_topic_is_a_broker_error() -> None:
    fake = FakeConsumer()
    with pytest.raises(BrokerError, match="no such topic"):
        await read_topic(
            CONN, "other", consumer_factory=lambda _b: fake, partitions_of=partitions_of
        )
    assert not fake.started


async def test_no_progress_times_out() -> None:
    fake = FakeConsumer(stall=True)
    with pytest.raises(BrokerError, match="timed out"):
        await read_topic(
            CONN,
            "audit",
            idle_timeout=0.0,
            consumer_factory=lambda _b: fake,
            partitions_of=partitions_of,
        )
    assert fake.stopped


async def test_kafka_errors_become_broker_errors() -> None:
    class Down(FakeConsumer):
        async def start(self) -> None:
            raise KafkaConnectionError("connection refused to x:1")

    down = Down()
    with pytest.raises(KafkaConnectError, match="cannot connect to Kafka at x:1"):
        await read_topic(
            CONN, "audit", consumer_factory=lambda _b: down, partitions_of=partitions_of
        )
    assert down.stopped
