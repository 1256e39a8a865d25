"""Which events an exactly-once agent may deliver after a rebalance (no broker:
the partition's floor comes from a stand-in for ``TransactionalDelivery.ready``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from streamsec.worker.agents import TopologyAgent


class _Stream:
    def __init__(self) -> None:
        self.acked: list[tuple[int, int]] = []

    async def ack(self, event: Any) -> None:
        self.acked.append((event.message.partition, event.message.offset))


class _Transactions:
    def __init__(self, floors: dict[int, int | None]) -> None:
        self.floors = floors
        self.asked: list[tuple[tuple[str, int], int]] = []

    async def ready(self, tp: tuple[str, int], generation: int) -> int | None:
        self.asked.append((tp, generation))
        return self.floors[tp[1]]


def _event(partition: int, offset: int, generation: int) -> Any:
    return SimpleNamespace(message=SimpleNamespace(
        topic="in", partition=partition, offset=offset, generation_id=generation))


async def _drop(floors: dict[int, int | None], events: list[Any]) -> tuple[list[Any], Any, Any]:
    stream, transactions = _Stream(), _Transactions(floors)
    agent = SimpleNamespace(app=SimpleNamespace(consumer_generation_id=7),
                            transactions=transactions)
    fresh = await TopologyAgent._drop_stale(agent, stream, events)  # type: ignore[arg-type]
    return fresh, stream, transactions


async def test_events_below_the_floor_were_delivered_by_the_old_owner_and_are_skipped() -> None:
    events = [_event(0, o, 7) for o in range(10, 20)]
    fresh, stream, transactions = await _drop({0: 15}, events)
    assert [e.message.offset for e in fresh] == list(range(15, 20))
    assert stream.acked == [(0, o) for o in range(10, 15)]  # done: committed by the old owner
    assert transactions.asked == [(("in", 0), 7)]  # asked once per partition, after fencing


async def test_events_of_an_older_generation_are_left_unacked_for_the_owner() -> None:
    events = [_event(0, 1, 6), _event(0, 2, 6), _event(1, 5, 7)]
    fresh, stream, transactions = await _drop({0: 0, 1: 0}, events)
    assert [(e.message.partition, e.message.offset) for e in fresh] == [(1, 5)]
    assert stream.acked == []  # an ack would let Faust commit past records never delivered
    assert transactions.asked == [(("in", 1), 7)]


async def test_a_partition_that_is_not_ours_to_commit_is_left_whole() -> None:
    events = [_event(0, 1, 7), _event(1, 1, 7), _event(0, 2, 7)]
    fresh, stream, _ = await _drop({0: None, 1: 0}, events)
    assert [(e.message.partition, e.message.offset) for e in fresh] == [(1, 1)]
    assert stream.acked == []
