"""EventBatches: batches are whatever is waiting, bounded, with backpressure."""

from __future__ import annotations

import asyncio

import pytest

from streamsec.worker.batching import EventBatches


async def test_take_returns_everything_waiting_up_to_the_maximum() -> None:
    batches: EventBatches[int] = EventBatches(4, capacity=10)
    for i in range(6):
        assert batches.offer(i)
    assert await batches.take() == [0, 1, 2, 3]
    assert await batches.take() == [4, 5]
    assert len(batches) == 0


async def test_take_waits_for_the_first_item_and_does_not_wait_for_more() -> None:
    batches: EventBatches[str] = EventBatches(64)
    taking = asyncio.ensure_future(batches.take())
    await asyncio.sleep(0.01)
    assert not taking.done()
    batches.offer("a")
    assert await asyncio.wait_for(taking, 1) == ["a"]  # no timer: one record goes at once


async def test_linger_collects_items_that_arrive_meanwhile() -> None:
    batches: EventBatches[int] = EventBatches(8, linger=0.05)
    batches.offer(1)
    taking = asyncio.ensure_future(batches.take())
    await asyncio.sleep(0.01)
    batches.offer(2)
    assert await taking == [1, 2]


async def test_a_full_queue_refuses_offers_and_holds_puts_back() -> None:
    batches: EventBatches[int] = EventBatches(2, capacity=3)
    assert [batches.offer(i) for i in range(4)] == [True, True, True, False]
    put = asyncio.ensure_future(batches.put(3))
    await asyncio.sleep(0.01)
    assert not put.done()  # backpressure
    assert await batches.take() == [0, 1]
    await asyncio.wait_for(put, 1)
    assert await batches.take() == [2, 3]


@pytest.mark.parametrize(("size", "linger"), [(0, 0.0), (1, -0.1)])
def test_bad_limits_are_refused(size: int, linger: float) -> None:
    with pytest.raises(ValueError):
        EventBatches(size, linger=linger)
