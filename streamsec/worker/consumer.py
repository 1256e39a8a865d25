"""Faust's Kafka consumer with a cheaper hand-over of each fetched message.

Faust's fetcher hands every message to the topic conductor with
``Service.wait_first(callback(message), suspend_flow.wait())``: four new tasks (the
callback, the suspension, the service's stopped and crashed events), an
``asyncio.wait`` and three cancellations, each of which costs another turn of the
event loop, per message. In a live worker that was 12-19% of the samples in which a
thread held the GIL (py-spy), more than the agent and all the producing together.

The callback waits only when something holds the flow back (a rebalance pauses it,
the producer's buffer or the stream's buffer is full). So :meth:`FastConsumer.wait_first`
first runs it inline, in the fetcher's own task; only if it has to wait is the rest
of it wrapped in a task and raced against the other awaitables by Faust's own
``wait_first``, exactly as before. Same order, same outcomes, no task when nothing waits.

A stream whose buffer fills takes its partition out of the fetch (Faust's flow
control), and a fetcher that finds every partition so taken sleeps a full second
before it looks again. The agent empties a buffer faster than that (a structured
worker drains Faust's 1,638 records below the low mark in about 0.3 s), so it then
sat idle for the rest of the second, at each fill: 345-433 ms stalls in every 8,000
record max-rate pass of the harness. :meth:`FastConsumer._wait_next_records` waits
for the buffer's drop instead (at most the same second), so the fetch resumes at once.

With ``processing_guarantee=exactly_once`` the consumer never commits an offset of its
own: each partition's transaction commits them (:mod:`streamsec.worker.transactions`).
A plain commit of an earlier ack that reaches the group coordinator while a
transaction's offsets wait for its markers wins over them (the coordinator keeps the
offset written last to its log), so the group's offset went back by a batch and the
partition's next owner delivered that batch a second time.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Coroutine, Generator, Mapping
from typing import Any, cast

import faust
from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP
from mode.services import WaitArgT, WaitResults
from mode.utils.times import Seconds

from streamsec.worker.buffer import ByteBoundedQueue

__all__ = ["FULL_BUFFER_WAIT", "FastConsumer", "Resumed", "WorkerApp", "run_until_suspended"]

FULL_BUFFER_WAIT = 1.0
"""The longest a fetcher waits while every partition's buffer is full (Faust's sleep)."""


class Resumed:
    """The rest of ``coro`` after it suspended on ``step`` (what it yielded to its
    task): awaiting this continues the coroutine where it stopped, passing every
    wake-up, value and exception (a cancellation) through, as a task would."""

    def __init__(self, coro: Coroutine[Any, Any, Any], step: Any) -> None:
        self.coro = coro
        self.step = step

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, step = self.coro, self.step
        while True:
            try:
                sent = yield step
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in by the task: passed on
                try:
                    step = coro.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    step = coro.send(sent)
                except StopIteration as done:
                    return done.value


async def _resume(coro: Coroutine[Any, Any, Any], step: Any) -> Any:
    return await Resumed(coro, step)


def run_until_suspended(coro: Coroutine[Any, Any, Any]) -> tuple[bool, Any]:
    """Run ``coro`` up to its first suspension: ``(True, result)`` when it finished
    without one, else ``(False, rest)`` with ``rest`` a coroutine that continues it.
    An exception it raises before suspending propagates."""
    try:
        step = coro.send(None)
    except StopIteration as done:
        return True, done.value
    return False, _resume(coro, step)


class FastConsumer(Consumer):
    """Faust's aiokafka consumer; :meth:`wait_first` (called by the fetcher for every
    message, and nowhere else in the consumer) differs, and :meth:`_commit` leaves the
    offsets to the transactions when the app says so."""

    _drained: asyncio.Event | None = None

    def on_buffer_drop(self, tp: TP) -> None:
        super().on_buffer_drop(tp)
        if self._drained is not None:
            self._drained.set()  # a fetcher waiting on full buffers fetches again now

    async def _wait_next_records(self, timeout: float) -> Any:
        """Faust's, but for a fetcher whose every partition is out of the fetch because
        its buffer is full: it waits for a buffer to drop below Faust's low mark
        (:meth:`on_buffer_drop`), not a full second, and then reads what Faust returns
        after its sleep, no records (the next call fetches)."""
        if (
            self.flow_active and not self.app.client_only and self._buffered_partitions
            and not self._get_active_partitions()
        ):
            if self._drained is None:
                self._drained = asyncio.Event()
            self._drained.clear()
            await self.wait_first(self._drained.wait(), timeout=FULL_BUFFER_WAIT)
            return {}, self._get_active_partitions()
        return await super()._wait_next_records(timeout)

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        if cast(WorkerApp, self.app).offsets_in_transactions:
            # Faust's bookkeeping only: these events' transactions committed them. Its
            # stall check reads when a partition was last committed: it was, now.
            now = time.monotonic()
            self._thread.tp_last_committed_at.update(dict.fromkeys(offsets, now))
            return True
        return bool(await super()._commit(offsets))

    async def wait_first(self, *coros: WaitArgT, timeout: Seconds | None = None) -> WaitResults:
        first, *others = coros
        if timeout is not None:
            return await super().wait_first(*coros, timeout=timeout)
        if (
            not inspect.iscoroutine(first) or self._stopped.is_set() or self._crashed.is_set()
        ):
            return await super().wait_first(*coros)
        try:
            finished, value = run_until_suspended(first)
        except BaseException:
            _close(others)
            raise
        if finished:
            _close(others)
            return WaitResults([first], [value], False)
        return await super().wait_first(asyncio.ensure_future(value), *others)


def _close(awaitables: list[WaitArgT]) -> None:
    """Close coroutines never started, so none is reported as never awaited."""
    for other in awaitables:
        if inspect.iscoroutine(other):
            other.close()


class WorkerApp(faust.App):
    """The worker's Faust app: the same, with a :class:`FastConsumer`."""

    offsets_in_transactions: bool = False
    """Exactly-once: only the transactions commit offsets, never Faust's consumer."""
    stream_buffer_bytes: int = 32 * 1024 * 1024
    """The bytes of records an agent's stream buffer holds before its partitions leave
    the fetch (``STREAMSEC_STREAM_BUFFER_BYTES``; :mod:`streamsec.worker.buffer`)."""

    def FlowControlQueue(
        self, maxsize: int | None = None, *, clear_on_resume: bool = False
    ) -> ByteBoundedQueue:
        return ByteBoundedQueue(
            maxsize=maxsize or 0, flow_control=self.flow_control,
            clear_on_resume=clear_on_resume, max_bytes=self.stream_buffer_bytes,
        )

    def _new_consumer(self) -> FastConsumer:
        return FastConsumer(
            self.transport,
            callback=self.topics.on_message,
            on_partitions_revoked=self._on_partitions_revoked,
            on_partitions_assigned=self._on_partitions_assigned,
            beacon=self.beacon,
            loop=self.transport.loop,
        )
