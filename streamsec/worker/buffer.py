"""The stream buffer of a worker's agents, bounded by bytes as well as by records.

Faust buffers the records its fetcher has read in each agent's channel, up to
``stream_buffer_maxsize`` events: past its high mark (``maxsize / 1.25``) the
partition of each new record is taken out of the fetch until the agent has emptied
the buffer below its low mark (``maxsize * 0.4``). A count of records bounds the
memory only for small records: behind a slow detector, a backlog of 200 kB records
took one worker to a peak RSS of 440 MB (223 MB with the byte mark), and 3,276
records of 1 MiB would fit below the count's high mark. A worker under a memory
limit would be killed, restart on the same backlog, and be killed again: its
partitions would stall.

:class:`ByteBoundedQueue` is Faust's queue with a second high mark, the bytes of the
buffered records' keys and values (``STREAMSEC_STREAM_BUFFER_BYTES``), and a second
low mark at 40% of it, as Faust's. The partitions leave the fetch when either mark is
passed and come back once both are below their low marks. What a fetch already
returned is still buffered (one fetch response per partition at most), so the buffer
overshoots the mark by that much, never by a backlog.

The bytes are counted in the queue's own put and get (``_put``/``_get``, the hooks
:class:`asyncio.Queue` keeps for subclasses) and reset with it on ``clear`` (a
rebalance), so no record is counted that the queue no longer holds.
"""

from __future__ import annotations

import math
from typing import Any

from mode.utils.queues import ThrowableQueue

__all__ = ["ByteBoundedQueue", "weight_of"]


def weight_of(item: Any) -> int:
    """The bytes of a buffered Faust event's key and value (0 for anything else)."""
    message = getattr(item, "message", None)
    if message is None:
        return 0
    key, value = getattr(message, "key", None), getattr(message, "value", None)
    return (len(key) if isinstance(key, bytes | str) else 0) + (
        len(value) if isinstance(value, bytes | str) else 0
    )


class ByteBoundedQueue(ThrowableQueue[Any]):
    """Faust's stream buffer, also under pressure past ``max_bytes`` (see the module)."""

    def __init__(self, *args: Any, max_bytes: int, **kwargs: Any) -> None:
        self.bytes = 0
        self.max_bytes = max_bytes
        self.drop_bytes = math.floor(max_bytes * self.pressure_drop_ratio)
        super().__init__(*args, **kwargs)

    def _put(self, item: Any) -> None:
        super()._put(item)
        self.bytes += weight_of(item)

    def _get(self) -> Any:
        item = super()._get()
        self.bytes -= weight_of(item)
        return item

    def clear(self) -> None:
        super().clear()
        self.bytes = 0

    def in_pressure_high_state(self, callback: Any) -> bool:
        pending = self._pending_pressure_drop_callbacks
        if callback not in pending and (
            self.qsize() >= self.pressure_high_size or self.bytes >= self.max_bytes
        ):
            pending.add(callback)
            self.on_pressure_high()
            return True
        return False

    def maybe_endorse_pressure_drop(self) -> None:
        pending = self._pending_pressure_drop_callbacks
        if not pending:
            return
        size = self.qsize()
        if not size:  # empty: every partition comes back
            for callback in pending:
                callback()
            pending.clear()
            self.on_pressure_drop()
        elif size <= self.pressure_drop_size and self.bytes <= self.drop_bytes:
            pending.pop()()  # one partition back per get, as Faust's
            self.on_pressure_drop()
