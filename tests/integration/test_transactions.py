"""Exactly-once delivery when a partition changes hands, on the real broker.

Each test plays two workers of one group with :class:`TransactionalDelivery` (the
code the agents use) and checks what a ``read_committed`` consumer of the output
sees: every record exactly once. The attacks are the ones a rebalance makes:
the old owner's transaction still in flight when the new owner starts, a fenced
zombie trying again, and a batch read before the rebalance committed after it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from streamsec.kafka import KafkaConnection, new_consumer
from streamsec.pipeline.model import Outcome, OutMessage, SourceRecord
from streamsec.worker.transactions import TransactionalDelivery

pytestmark = pytest.mark.integration


def _outcomes(topic: str, out: str, offsets: range) -> list[Outcome]:
    return [
        Outcome(SourceRecord(topic, 0, o, None, b"x"), (OutMessage(out, None, str(o).encode()),))
        for o in offsets
    ]


class _Gen:
    """The consumer's generation, as the app would report it."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __call__(self) -> int:
        return self.value


def _delivery(bootstrap: str, group: str, gen: _Gen) -> TransactionalDelivery:
    return TransactionalDelivery(
        connection=KafkaConnection(bootstrap), group_id=group, generation=gen, max_backoff=0.5
    )


async def _committed(bootstrap: str, group: str, tp: tuple[str, int]) -> int | None:
    consumer = new_consumer(KafkaConnection(bootstrap), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(*tp))
    finally:
        await consumer.stop()


async def _values(consume: Callable[..., Awaitable[list[Any]]], topic: str) -> list[int]:
    return [int(r.value) for r in await consume(topic, None, timeout=20.0)]


async def test_the_new_owner_skips_what_the_old_owner_committed_after_its_seek(
    kafka_bootstrap: str, topic_factory: Callable[..., Awaitable[str]],
    group_factory: Callable[[], str], kafka_consume: Callable[..., Awaitable[list[Any]]],
) -> None:
    """The new owner's stream was positioned from a committed offset read before the
    old owner's last transaction landed (a commit's markers are written after it
    returns): it must not deliver that batch a second time."""
    source, out, group = await topic_factory(), await topic_factory(), group_factory()
    tp = (source, 0)
    stale = await _committed(kafka_bootstrap, group, tp)  # what the new owner's seek read
    assert stale is None
    a, b = _delivery(kafka_bootstrap, group, _Gen(1)), _delivery(kafka_bootstrap, group, _Gen(2))
    try:
        await a.start_partitions([tp])
        committed, fenced = await a.deliver(_outcomes(source, out, range(0, 32)), 1)
        assert (len(committed), fenced) == (32, [])
        await b.start_partitions([tp])
        floor = await b.ready(tp, 2)
        print(f"stale seek position {stale}, floor after fencing {floor}")
        assert floor == 32
        committed, fenced = await b.deliver(_outcomes(source, out, range(32, 40)), 2)
        assert (len(committed), fenced) == (8, [])
    finally:
        await a.stop()
        await b.stop()
    values = await _values(kafka_consume, out)
    assert sorted(values) == list(range(40)) and len(values) == 40


async def test_the_new_owner_fences_an_open_transaction_before_reading_the_floor(
    kafka_bootstrap: str, topic_factory: Callable[..., Awaitable[str]],
    group_factory: Callable[[], str], kafka_consume: Callable[..., Awaitable[list[Any]]],
) -> None:
    """The old owner is mid-transaction (outputs and offsets sent, not committed)
    when the new owner starts: the broker aborts it, the floor stays where it was,
    and the old owner's commit fails. The batch is delivered once, by the new owner."""
    source, out, group = await topic_factory(), await topic_factory(), group_factory()
    tp = (source, 0)
    a, b = _delivery(kafka_bootstrap, group, _Gen(1)), _delivery(kafka_bootstrap, group, _Gen(2))
    try:
        await a.start_partitions([tp])
        producer = a._producers[tp]
        await producer.begin_transaction()
        for o in _outcomes(source, out, range(0, 16)):
            await producer.send_and_wait(out, o.messages[0].value)
        await producer.send_offsets_to_transaction({TopicPartition(*tp): 16}, group)
        await b.start_partitions([tp])
        assert await b.ready(tp, 2) == 0
        with pytest.raises(KafkaError):  # fenced: the transaction was aborted
            await producer.commit_transaction()
        committed, fenced = await b.deliver(_outcomes(source, out, range(0, 16)), 2)
        assert (len(committed), fenced) == (16, [])
    finally:
        await a.stop()
        await b.stop()
    values = await _values(kafka_consume, out)
    assert sorted(values) == list(range(16))


async def test_a_fenced_zombie_never_fences_the_owner_back(
    kafka_bootstrap: str, topic_factory: Callable[..., Awaitable[str]],
    group_factory: Callable[[], str], kafka_consume: Callable[..., Awaitable[list[Any]]],
) -> None:
    """A worker that lost its partition without noticing (same generation as far as
    it knows) is fenced by the new owner. Its next batch must be given up, not sent
    with a fresh producer that would fence the owner and commit a second time."""
    source, out, group = await topic_factory(), await topic_factory(), group_factory()
    tp = (source, 0)
    zombie, owner = _delivery(kafka_bootstrap, group, _Gen(1)), _delivery(
        kafka_bootstrap, group, _Gen(2))
    try:
        await zombie.start_partitions([tp])
        await owner.start_partitions([tp])
        assert await owner.ready(tp, 2) == 0
        assert await zombie.deliver(_outcomes(source, out, range(0, 8)), 1) == ([], [0])
        assert await zombie.deliver(_outcomes(source, out, range(8, 16)), 1) == ([], [0])
        assert await zombie.ready(tp, 1) is None
        committed, fenced = await owner.deliver(_outcomes(source, out, range(0, 16)), 2)
        assert (len(committed), fenced) == (16, [])
    finally:
        await zombie.stop()
        await owner.stop()
    values = await _values(kafka_consume, out)
    assert sorted(values) == list(range(16))


async def test_a_batch_that_comes_before_the_assignment_hook_fences_first(
    kafka_bootstrap: str, topic_factory: Callable[..., Awaitable[str]],
    group_factory: Callable[[], str], kafka_consume: Callable[..., Awaitable[list[Any]]],
) -> None:
    """Faust may hand the stream its first events before the assignment hook has run
    (the two run concurrently): the batch is not dropped, its producer is started
    (fencing) and the floor read on the spot."""
    source, out, group = await topic_factory(), await topic_factory(), group_factory()
    tp = (source, 0)
    old, new = _delivery(kafka_bootstrap, group, _Gen(1)), _delivery(
        kafka_bootstrap, group, _Gen(2))
    try:
        await old.start_partitions([tp])
        assert len((await old.deliver(_outcomes(source, out, range(0, 4)), 1))[0]) == 4
        assert await new.ready(tp, 2) == 4  # no start_partitions yet
        assert len((await new.deliver(_outcomes(source, out, range(4, 8)), 2))[0]) == 4
        await new.start_partitions([tp])  # the hook, late: same generation, same producer
        assert len((await new.deliver(_outcomes(source, out, range(8, 12)), 2))[0]) == 4
        assert await old.deliver(_outcomes(source, out, range(4, 8)), 1) == ([], [0])
    finally:
        await old.stop()
        await new.stop()
    values = await _values(kafka_consume, out)
    assert sorted(values) == list(range(12))


async def test_a_batch_read_before_a_rebalance_is_never_committed_after_it(
    kafka_bootstrap: str, topic_factory: Callable[..., Awaitable[str]],
    group_factory: Callable[[], str], kafka_consume: Callable[..., Awaitable[list[Any]]],
) -> None:
    """The partition stayed with this worker across a rebalance; the stream reads it
    again from the committed offset. A batch protected from the events read before
    the rebalance must not be committed too (it would be delivered twice)."""
    source, out, group = await topic_factory(), await topic_factory(), group_factory()
    tp = (source, 0)
    gen = _Gen(1)
    worker = _delivery(kafka_bootstrap, group, gen)
    try:
        await worker.start_partitions([tp])
        prepared = _outcomes(source, out, range(0, 8))  # read in generation 1
        await worker.stop_partitions([tp])  # revoked ...
        gen.value = 2
        await worker.start_partitions([tp])  # ... and assigned again
        assert await worker.deliver(prepared, 1) == ([], [0])
        assert await worker.ready(tp, 2) == 0
        committed, _ = await worker.deliver(_outcomes(source, out, range(0, 8)), 2)
        assert len(committed) == 8
    finally:
        await worker.stop()
    values = await _values(kafka_consume, out)
    assert sorted(values) == list(range(8))
    assert await _committed(kafka_bootstrap, group, tp) == 8


async def test_a_plain_commit_inside_a_transaction_takes_the_group_offset_back(
    kafka_bootstrap: str, topic_factory: Callable[..., Awaitable[str]],
    group_factory: Callable[[], str], kafka_consume: Callable[..., Awaitable[list[Any]]],
) -> None:
    """The control for why the worker's consumer commits nothing in exactly-once
    (``FastConsumer._commit``): a plain commit of an older ack (Faust's periodic
    commit) that reaches the coordinator while a transaction's offsets wait for its
    markers wins over them. The group's offset goes back by that transaction, and the
    partition's next owner delivers its batch again. Fails if Kafka changes this."""
    source, out, group = await topic_factory(), await topic_factory(), group_factory()
    tp = (source, 0)
    a, b = _delivery(kafka_bootstrap, group, _Gen(1)), _delivery(kafka_bootstrap, group, _Gen(2))
    plain = new_consumer(KafkaConnection(kafka_bootstrap), group_id=group,
                         enable_auto_commit=False)
    await plain.start()
    plain.assign([TopicPartition(*tp)])
    try:
        assert len((await a.deliver(_outcomes(source, out, range(0, 16)), 1))[0]) == 16
        producer = a._producers[tp]
        async with producer.transaction():  # what a.deliver does for the next batch ...
            for o in _outcomes(source, out, range(16, 32)):
                await producer.send_and_wait(out, o.messages[0].value)
            await producer.send_offsets_to_transaction({TopicPartition(*tp): 32}, group)
            await plain.commit({TopicPartition(*tp): 16})  # ... and Faust's older ack
        assert await _committed(kafka_bootstrap, group, tp) == 16  # not 32
        assert await b.ready(tp, 2) == 16  # the new owner's floor
        committed, _ = await b.deliver(_outcomes(source, out, range(16, 32)), 2)
        assert len(committed) == 16  # delivered a second time
    finally:
        await plain.stop()
        await a.stop()
        await b.stop()
    values = await _values(kafka_consume, out)
    assert len(values) == 48 and sorted(set(values)) == list(range(32))
