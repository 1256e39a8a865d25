"""Natural batching between an agent's stream and its batch loop.

A timer-driven batch (Faust's ``take(max_, within)``) makes every record wait for
the timer at low load and pauses reading while a batch is processed. Here the
stream side puts events into a bounded queue and the batch loop takes *whatever
is waiting* as soon as it is free: one record at low load (lowest latency), up to
``max_size`` under load (highest throughput), with no timer in between. While a
batch is being protected and delivered the next one fills up. A full queue holds
the stream back (backpressure), so memory stays bounded.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

__all__ = ["EventBatches"]

T = TypeVar("T")


class EventBatches(Generic[T]):
    def __init__(self, max_size: int, *, linger: float = 0.0, capacity: int | None = None) -> None:
        """``max_size`` events at most per batch; ``linger`` seconds to wait once
        for more when fewer are waiting (0: never wait); ``capacity`` events queued at most
        (default: two batches)."""
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        if linger < 0:
            raise ValueError("linger must not be negative")
        self.max_size = max_size
        self.linger = linger
        self._queue: asyncio.Queue[T] = asyncio.Queue(capacity or 2 * max_size)

    def __len__(self) -> int:
        return self._queue.qsize()

    def offer(self, item: T) -> bool:
        """Queue ``item`` if there is room now (the cheap path); False when full."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True

    async def put(self, item: T) -> None:
        """Queue ``item``, waiting for room when the queue is full."""
        await self._queue.put(item)

    async def take(self) -> list[T]:
        """The next batch: waits for one item, then returns every item waiting (up to
        ``max_size``), after lingering ``linger`` seconds first if that is fewer."""
        batch = [await self._queue.get()]
        self._drain(batch)
        if self.linger and len(batch) < self.max_size:
            await asyncio.sleep(self.linger)  # (never wait_for(get): it can drop an item)
            self._drain(batch)
        return batch

    def _drain(self, batch: list[T]) -> None:
        queue = self._queue
        while len(batch) < self.max_size and not queue.empty():
            batch.append(queue.get_nowait())
