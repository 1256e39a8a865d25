"""Reading a Faust stream in batches: the events already waiting, as source records."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust

from streamsec.pipeline.headers import forwardable
from streamsec.pipeline.model import SourceRecord

__all__ = ["RawSchema", "batch_weight", "source_of", "waiting_events"]


class RawSchema(faust.Schema[bytes | None, bytes | None]):
    """An input topic's schema: each event carries its message's own key and value
    bytes. Faust's schema passes both through its serializer registry, whose ``raw``
    codec hands them back unchanged; the agent reads the message's bytes anyway
    (:func:`source_of`), so that was work for nothing on every record."""

    def __init__(self) -> None:
        super().__init__(key_serializer="raw", value_serializer="raw", allow_empty=True)

    def compile(self, app: Any, **_: Any) -> Callable[..., Awaitable[Any]]:
        create_event = app.create_event

        async def decode(message: Any, *, propagate: bool = False) -> Any:
            return create_event(message.key, message.value, message.headers, message)

        return decode


def waiting_events(stream: Any) -> Callable[[int], list[Any]]:
    """Takes up to ``n`` of the events already waiting in the stream's channel, without
    waiting. Faust's own iterator costs a turn of the event loop (``sleep(0)``), two
    async generators and its stream sensors per event; this takes a whole batch in
    one go. Each event is prepared as that iterator prepares it: one read before a
    rebalance (another consumer generation) or while the flow is paused is dropped,
    neither tracked nor acked (its partition's owner reads it again from the committed
    offset); the others are tracked as pending acks. A stream without a channel queue
    (a plain iterable) never has one waiting."""
    queue = getattr(getattr(stream, "channel", None), "queue", None)
    if queue is None:
        return lambda n: []
    app = stream.app
    consumer = app.consumer
    acks_enabled_for = app.topics.acks_enabled_for

    def take(n: int) -> list[Any]:
        taken: list[Any] = []
        while len(taken) < n and not queue.empty():
            event = queue.get_nowait()
            message = event.message
            if (
                not app.flow_control.is_active()
                or message.generation_id != app.consumer_generation_id
            ):
                continue
            if not message.tracked and acks_enabled_for(message.topic):
                message.tracked = True
                consumer.track_message(message)
            taken.append(event)
        return taken

    return take


def source_of(event: Any, forward: frozenset[str] = frozenset()) -> SourceRecord:
    """The pipeline's view of one Faust event (raw key and value bytes)."""
    message = event.message
    return SourceRecord(
        topic=message.topic, partition=message.partition, offset=message.offset,
        key=message.key, value=message.value, timestamp=message.timestamp,
        headers=forwardable(getattr(message, "headers", None), forward) if forward else (),
    )


def batch_weight(sources: Sequence[SourceRecord]) -> int:
    """The bytes of a batch's keys and values (what decides where it is protected)."""
    return sum(len(s.key or b"") + len(s.value or b"") for s in sources)
