"""A batch is taken from the stream's channel in one go, each event prepared as
Faust's own stream iterator prepares it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from streamsec.worker.stream import waiting_events as _waiting_events


class _Consumer:
    def __init__(self) -> None:
        self.tracked: list[int] = []

    def track_message(self, message: Any) -> None:
        self.tracked.append(message.offset)


def _stream(generation: int = 3, *, active: bool = True) -> Any:
    app = SimpleNamespace(
        consumer=_Consumer(),
        consumer_generation_id=generation,
        flow_control=SimpleNamespace(is_active=lambda: active),
        topics=SimpleNamespace(acks_enabled_for=lambda topic: topic == "in"),
    )
    return SimpleNamespace(app=app, channel=SimpleNamespace(queue=asyncio.Queue()))


def _event(offset: int, generation: int = 3, topic: str = "in") -> Any:
    message = SimpleNamespace(
        topic=topic, offset=offset, generation_id=generation, tracked=False)
    return SimpleNamespace(message=message)


async def test_takes_what_waits_up_to_the_limit_and_tracks_it() -> None:
    stream = _stream()
    for offset in range(10):
        stream.channel.queue.put_nowait(_event(offset))
    take = _waiting_events(stream)
    assert [e.message.offset for e in take(4)] == [0, 1, 2, 3]
    assert [e.message.offset for e in take(100)] == list(range(4, 10))
    assert take(100) == []  # nothing waits: never blocks
    assert stream.app.consumer.tracked == list(range(10))


async def test_an_event_of_an_older_generation_is_dropped_untracked() -> None:
    stream = _stream(generation=4)
    for event in (_event(0, generation=3), _event(1, generation=4)):
        stream.channel.queue.put_nowait(event)
    taken = _waiting_events(stream)(10)
    assert [e.message.offset for e in taken] == [1]
    assert stream.app.consumer.tracked == [1]


async def test_nothing_is_taken_while_the_flow_is_paused() -> None:
    stream = _stream(active=False)
    stream.channel.queue.put_nowait(_event(0))
    assert _waiting_events(stream)(10) == []
    assert stream.app.consumer.tracked == []


async def test_a_tracked_event_or_one_of_a_topic_without_acks_is_not_tracked_again() -> None:
    stream = _stream()
    seen = _event(0)
    seen.message.tracked = True
    stream.channel.queue.put_nowait(seen)
    stream.channel.queue.put_nowait(_event(1, topic="other"))
    assert len(_waiting_events(stream)(10)) == 2
    assert stream.app.consumer.tracked == []


def test_a_stream_without_a_channel_never_has_one_waiting() -> None:
    assert _waiting_events(object())(10) == []


async def test_the_input_schema_gives_each_event_its_messages_own_bytes() -> None:
    import faust
    from faust.types import TP
    from faust.types.tuples import Message

    from streamsec.worker.stream import RawSchema

    app = faust.App("streamsec-test-raw-schema", broker="memory://", autodiscover=False)
    faust_raw = faust.Schema(key_serializer="raw", value_serializer="raw", allow_empty=True)
    ours, theirs = RawSchema().compile(app), faust_raw.compile(app, default_propagate=True)
    for offset, (key, value) in enumerate(
        [(b"k", b'{"a": 1}'), (None, b"v"), (b"k", None), (None, None), (b"", b"")]
    ):
        headers = [("h", b"1")]
        message = Message("in", 0, offset, 0.0, 0, headers, key, value, None, tp=TP("in", 0))
        event, expected = await ours(message), await theirs(message)
        assert (event.key, event.value) == (key, value)
        assert (event.key, event.value) == (expected.key, expected.value)
        assert event.headers == expected.headers
        assert event.message is message
