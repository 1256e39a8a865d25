from __future__ import annotations

import asyncio
import warnings

import pytest
from faust.types import TP

from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology
from streamsec.worker.app import build_app
from streamsec.worker.consumer import FastConsumer, run_until_suspended


async def _add(a: int, b: int) -> int:
    return a + b


async def _after(future: asyncio.Future[int], log: list[str]) -> int:
    log.append("started")
    try:
        value = await future
        log.append("resumed")
        await asyncio.sleep(0)  # a bare yield too
        return value * 2
    except asyncio.CancelledError:
        log.append("cancelled")
        raise


async def test_a_coroutine_that_never_waits_finishes_inline() -> None:
    assert run_until_suspended(_add(2, 3)) == (True, 5)


async def test_a_coroutine_that_waits_continues_in_a_task() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    log: list[str] = []
    finished, rest = run_until_suspended(_after(future, log))
    assert not finished and log == ["started"]
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    assert not task.done()
    future.set_result(21)
    assert await task == 42
    assert log == ["started", "resumed"]


async def test_an_exception_reaches_the_coroutine_and_its_caller() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    _, rest = run_until_suspended(_after(future, []))
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    future.set_exception(KeyError("boom"))
    with pytest.raises(KeyError):
        await task


async def test_cancelling_the_task_cancels_the_coroutine() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    log: list[str] = []
    _, rest = run_until_suspended(_after(future, log))
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["started", "cancelled"]
    assert future.cancelled()


async def test_an_error_before_the_first_wait_propagates() -> None:
    async def fails() -> None:
        raise ValueError("decode")

    with pytest.raises(ValueError, match="decode"):
        run_until_suspended(fails())


def _consumer(guarantee: str = "at_least_once") -> FastConsumer:
    topology = parse_topology("name: c\ninput: in.c\noutput: out.c\n")
    settings = Settings.model_validate(
        {"web_port": 0, "app_id": "unit-consumer", "processing_guarantee": guarantee}
    )
    pipeline = make_pipeline(
        topology, settings, worker_id="w", provider=InMemoryKeyProvider(),
        detector=FakeDetector(),
    )
    consumer = build_app(settings, [pipeline], bootstrap="127.0.0.1:1").consumer
    assert isinstance(consumer, FastConsumer)  # the worker's app builds ours
    return consumer


async def test_the_fetchers_hand_over_without_a_wait_needs_no_task() -> None:
    consumer = _consumer()
    suspend = asyncio.Event()
    tasks_before = len(asyncio.all_tasks())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the unstarted suspend.wait() is closed
        result = await consumer.wait_first(_add(1, 1), suspend.wait())
    assert result.results == [2] and not result.stopped
    assert len(asyncio.all_tasks()) == tasks_before


async def test_a_hand_over_that_waits_still_yields_to_the_suspension() -> None:
    consumer = _consumer()
    suspend = asyncio.Event()
    blocked: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    log: list[str] = []
    waiting = asyncio.ensure_future(consumer.wait_first(_after(blocked, log), suspend.wait()))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # the callback waits (a full buffer), as in Faust
    suspend.set()  # a rebalance suspends the flow: the wait ends, the callback is cancelled
    result = await asyncio.wait_for(waiting, 5)
    assert result.results == [True] and not result.stopped
    await asyncio.sleep(0)
    assert log == ["started", "cancelled"]


async def test_a_hand_over_that_waits_completes_when_its_wait_ends() -> None:
    consumer = _consumer()
    blocked: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiting = asyncio.ensure_future(
        consumer.wait_first(_after(blocked, []), asyncio.Event().wait()))
    await asyncio.sleep(0.01)
    blocked.set_result(4)
    result = await asyncio.wait_for(waiting, 5)
    assert 8 in result.results


class _Thread:
    """Where Faust's consumer sends a commit (its aiokafka thread): recorded."""

    def __init__(self) -> None:
        self.commits: list[dict[TP, int]] = []
        self.tp_last_committed_at: dict[TP, float] = {}

    async def commit(self, offsets: dict[TP, int]) -> bool:
        self.commits.append(dict(offsets))
        return True


@pytest.mark.parametrize(
    ("guarantee", "sent"), [("exactly_once", []), ("at_least_once", [{TP("in.c", 0): 7}])]
)
async def test_only_the_transactions_commit_offsets_in_exactly_once(
    guarantee: str, sent: list[dict[TP, int]]
) -> None:
    """A plain commit of an older ack during a transaction takes the group's offset
    back (tests/integration/test_transactions.py shows it on the broker), so in
    exactly-once Faust's consumer commits nothing itself; at least once it does."""
    consumer = _consumer(guarantee)
    thread = _Thread()
    consumer._thread = thread  # type: ignore[assignment]
    assert await consumer._commit({TP("in.c", 0): 7}) is True
    assert thread.commits == sent
    if not sent:  # Faust's stall check sees the commit its transaction made
        assert list(thread.tp_last_committed_at) == [TP("in.c", 0)]


async def test_a_fetcher_with_every_buffer_full_fetches_again_as_soon_as_one_drops() -> None:
    """Faust's fetcher sleeps a whole second once every partition's buffer is full;
    the agent empties a buffer well within that, and then sat idle (345-433 ms in
    each max-rate pass of the harness). Ours wakes when the buffer drops."""
    consumer = _consumer()
    consumer.app.flow_control.resume()
    tp = TP("in.c", 0)
    consumer._set_active_tps({tp})
    consumer.on_buffer_full(tp)  # the stream's buffer passed Faust's high mark
    assert not consumer._get_active_partitions()
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = asyncio.ensure_future(consumer._wait_next_records(5.0))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # nothing to fetch from: it waits
    consumer.on_buffer_drop(tp)  # the agent took the buffer below the low mark
    records, active = await asyncio.wait_for(waiting, 5)
    assert loop.time() - started < 0.5  # Faust's sleep took 1 s
    assert records == {} and active == {tp}  # the next call fetches from it


async def test_a_fetcher_with_every_buffer_full_still_looks_again_after_a_second() -> None:
    consumer = _consumer()
    consumer.app.flow_control.resume()
    tp = TP("in.c", 0)
    consumer._set_active_tps({tp})
    consumer.on_buffer_full(tp)
    loop = asyncio.get_running_loop()
    started = loop.time()
    records, active = await consumer._wait_next_records(5.0)
    assert 0.9 <= loop.time() - started < 3.0
    assert records == {} and active == set()
