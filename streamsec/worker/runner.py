"""Where an agent's pipeline calls run: on the event loop when small, else in its thread.

A worker is one Python process: the event loop (producing, acks, timers), Faust's
consumer thread (fetching, heartbeats) and each agent's executor thread share one
GIL. Handing a batch to the executor and back costs a thread wake-up each way, and
while the executor holds the GIL for a batch's pure-Python work every wake-up of the
loop waits for a switch interval; at a paced rate, where batches hold a few records,
that hand-off is most of a record's latency. So :class:`PipelineRunner` runs a call
**inline**, on the loop itself, when its weight (the bytes of the batch's keys and
values) is at most ``inline_bytes`` and nothing is queued or running in the executor;
anything heavier goes to the agent's single executor thread, so a big record never
blocks the loop (its detection can take up to the record time budget).

Nor inline while another agent's thread is reading texts with the NLP engine (``busy``,
:func:`streamsec.detection.nlp_busy`): the engine is shared and holds a lock while it
reads (its memory zone), so an inline call would block the loop until the other
agent's batch is through NER; it runs in this agent's thread instead.

The pipeline is not thread-safe: its calls never overlap. An inline call is made only
when every call handed to the executor has *finished* (not merely been awaited: a
cancelled wait leaves the thread running), and calls made while one is in the
executor queue behind it, in order.

Measured (``benchmarks/harness.py``'s structured workload, one worker, the same
session, alternating): CPU 0.61/0.64 -> 0.55/0.59 ms per record, p99 at 50% of the
maximum rate 129/314 -> 97/100 ms, with every batch inline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

__all__ = ["INLINE_BYTES", "PipelineRunner"]

T = TypeVar("T")

INLINE_BYTES: Final = 32 * 1024
"""The default weight up to which a call runs on the loop: a batch of 64 structured
records of ~400 bytes, or a few free-text records. Its detection takes a few
milliseconds; anything bigger (up to ``max_text_chars`` per record) runs in the thread."""


class PipelineRunner:
    """Runs one agent's pipeline calls, one at a time (see the module doc)."""

    def __init__(
        self, name: str, inline_bytes: int = INLINE_BYTES,
        busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.inline_bytes = inline_bytes
        self.busy = busy
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ssec-{name}")
        self._queued: list[concurrent.futures.Future[Any]] = []
        self.inline_calls = 0
        self.thread_calls = 0

    def idle(self) -> bool:
        """True when no call handed to the executor is queued or still running."""
        if self._queued:
            self._queued = [f for f in self._queued if not f.done()]
        return not self._queued

    async def run(self, fn: Callable[..., T], *args: object, weight: int = 0) -> T:
        """``fn(*args)``: inline when ``weight <= inline_bytes``, the executor is idle and
        the shared NLP engine is not busy in another thread, else in the executor (after
        what is queued there)."""
        if weight <= self.inline_bytes and self.idle() and not self.busy():
            self.inline_calls += 1
            return fn(*args)
        self.thread_calls += 1
        future: concurrent.futures.Future[T] = self.executor.submit(fn, *args)
        self._queued.append(future)
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False)
