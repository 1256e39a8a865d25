"""PipelineRunner: small calls on the loop, big ones in the thread, never two at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from streamsec.settings import Settings
from streamsec.worker.runner import INLINE_BYTES, PipelineRunner


def _thread() -> int:
    return threading.get_ident()


async def test_a_small_call_runs_on_the_loop_and_a_big_one_in_the_thread() -> None:
    runner = PipelineRunner("t", inline_bytes=100)
    try:
        loop_thread = threading.get_ident()
        assert await runner.run(_thread, weight=100) == loop_thread
        assert await runner.run(_thread, weight=101) != loop_thread
        assert (runner.inline_calls, runner.thread_calls) == (1, 1)
    finally:
        runner.shutdown()


async def test_zero_sends_every_batch_to_the_thread() -> None:
    runner = PipelineRunner("t", inline_bytes=0)
    try:
        assert await runner.run(_thread, weight=1) != threading.get_ident()
    finally:
        runner.shutdown()


async def test_a_small_call_waits_behind_a_call_running_in_the_thread() -> None:
    """The pipeline is not thread-safe: a small call made while a big one runs in the
    executor must not run inline beside it; it queues behind it, in order."""
    runner = PipelineRunner("t", inline_bytes=100)
    release = threading.Event()
    order: list[str] = []
    active = threading.Semaphore(1)

    def call(name: str, block: bool) -> str:
        assert active.acquire(blocking=False), "two pipeline calls overlapped"
        try:
            if block:
                assert release.wait(5)
            order.append(name)
            return name
        finally:
            active.release()

    try:
        big = asyncio.ensure_future(runner.run(call, "big", True, weight=1_000))
        await asyncio.sleep(0.05)  # the big call is running in the thread
        small = asyncio.ensure_future(runner.run(call, "small", False, weight=1))
        await asyncio.sleep(0.05)
        assert order == [] and not small.done()
        release.set()
        assert await asyncio.gather(big, small) == ["big", "small"]
        assert order == ["big", "small"]
        assert (runner.inline_calls, runner.thread_calls) == (0, 2)
        assert await runner.run(call, "after", False, weight=1) == "after"
        assert runner.inline_calls == 1  # idle again: inline
    finally:
        release.set()
        runner.shutdown()


async def test_a_cancelled_wait_does_not_let_a_call_overlap_the_running_one() -> None:
    """Cancelling the await does not stop the thread: the runner stays busy until the
    call has really finished."""
    runner = PipelineRunner("t", inline_bytes=100)
    release = threading.Event()
    running = threading.Event()
    finished = threading.Event()

    def slow() -> None:
        running.set()
        assert release.wait(5)
        finished.set()

    try:
        waiter = asyncio.ensure_future(runner.run(slow, weight=1_000))
        assert await asyncio.to_thread(running.wait, 5)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert not runner.idle()
        seen = asyncio.ensure_future(runner.run(finished.is_set, weight=1))
        await asyncio.sleep(0.05)
        release.set()
        assert await seen is True  # it ran only after slow() had finished
    finally:
        release.set()
        runner.shutdown()


async def test_an_exception_propagates_from_either_place() -> None:
    runner = PipelineRunner("t", inline_bytes=10)

    def boom() -> None:
        raise ValueError("no")

    try:
        with pytest.raises(ValueError, match="no"):
            await runner.run(boom, weight=1)
        with pytest.raises(ValueError, match="no"):
            await runner.run(boom, weight=100)
        assert runner.idle()
    finally:
        runner.shutdown()


def test_the_setting_defaults_to_the_runner_default() -> None:
    assert Settings.model_fields["inline_batch_bytes"].default == INLINE_BYTES


async def test_a_small_call_goes_to_the_thread_while_the_nlp_engine_is_busy() -> None:
    """Another agent's thread holding the shared NLP engine (its memory zone's lock):
    a call inline would block the event loop until that one is through NER."""
    busy = [True]
    runner = PipelineRunner("t", inline_bytes=100, busy=lambda: busy[0])
    try:
        assert await runner.run(_thread, weight=1) != threading.get_ident()
        busy[0] = False
        assert await runner.run(_thread, weight=1) == threading.get_ident()
        assert (runner.inline_calls, runner.thread_calls) == (1, 1)
    finally:
        runner.shutdown()
