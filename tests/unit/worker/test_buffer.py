"""The agents' stream buffer leaves the fetch past a byte mark as well as a record
count (streamsec/worker/buffer.py)."""

from __future__ import annotations

from dataclasses import dataclass

from mode.utils.queues import FlowControlEvent

from streamsec.worker.buffer import ByteBoundedQueue, weight_of


@dataclass
class _Message:
    key: bytes | None
    value: bytes | None


@dataclass
class _Event:
    message: _Message


def _event(size: int) -> _Event:
    return _Event(_Message(b"k", b"v" * (size - 1)))


class _Partition:
    """One partition's hooks, as Faust's conductor passes them per put."""

    def __init__(self) -> None:
        self.fetching = True

    def high(self) -> None:
        self.fetching = False

    def drop(self) -> None:
        self.fetching = True


def _queue(maxsize: int = 4096, max_bytes: int = 1_000_000) -> ByteBoundedQueue:
    flow = FlowControlEvent(initially_suspended=False)
    return ByteBoundedQueue(maxsize=maxsize, flow_control=flow, max_bytes=max_bytes)


def _put(queue: ByteBoundedQueue, item: _Event, tp: _Partition) -> None:
    queue.put_nowait_enhanced(item, on_pressure_high=tp.high, on_pressure_drop=tp.drop)


def test_the_weight_of_an_event_is_its_key_and_value() -> None:
    assert weight_of(_Event(_Message(b"abc", b"12345"))) == 8
    assert weight_of(_Event(_Message(None, None))) == 0
    assert weight_of(object()) == 0


def test_big_records_take_the_partition_out_of_the_fetch_long_before_the_count() -> None:
    """Faust's own mark is 3,276 records: 500 kB records reached a peak RSS of 1.3 GB."""
    queue, tp = _queue(), _Partition()
    for _ in range(4):
        _put(queue, _event(250_000), tp)
    assert queue.bytes == 1_000_000 and tp.fetching  # the mark is checked before a put
    _put(queue, _event(250_000), tp)
    assert not tp.fetching and queue.qsize() == 5  # 5 records, far below 3,276
    queue.get_nowait()
    queue.get_nowait()
    assert not tp.fetching and queue.bytes == 750_000  # above the low mark (400 kB)
    queue.get_nowait()
    queue.get_nowait()  # 500 kB before it: still above
    assert not tp.fetching and queue.bytes == 250_000
    queue.get_nowait()  # 250 kB, one record left when asked: below the low mark
    assert tp.fetching and queue.bytes == 0 and queue.empty()


def test_small_records_still_go_by_faust_s_count() -> None:
    queue, tp = _queue(maxsize=100), _Partition()
    for _ in range(80):
        _put(queue, _event(100), tp)
    assert tp.fetching
    _put(queue, _event(100), tp)  # 80 = 100 / 1.25 records were there
    assert not tp.fetching
    while queue.qsize() > 41:
        queue.get_nowait()
    assert not tp.fetching
    queue.get_nowait()  # 41 when asked... down to 40 = 100 * 0.4
    queue.get_nowait()
    assert tp.fetching


def test_a_cleared_buffer_counts_no_bytes() -> None:
    """A rebalance clears the buffer: its records are read again, and must not keep
    the partitions out of the fetch as phantom bytes."""
    queue, tp = _queue(max_bytes=1_000), _Partition()
    for _ in range(3):
        _put(queue, _event(500), tp)
    queue.clear()
    assert queue.bytes == 0 and queue.qsize() == 0
    fresh = _Partition()
    _put(queue, _event(500), fresh)
    assert fresh.fetching
