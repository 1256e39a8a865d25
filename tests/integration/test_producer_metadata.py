"""A producer keeps the leaders of the topics it writes (``streamsec.kafka.track_topics``).

aiokafka refreshes only the topics its client tracks, and ``send`` tracks a topic only
when the metadata does not already hold it. After a full-metadata fetch every topic is
known and none is tracked; once another topic is tracked, the known ones drop out of
the metadata and a batch waiting for one of them spins on metadata requests. A worker
stalled that way on its audit topic for over ten minutes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from streamsec.kafka import KafkaConnection, new_producer, track_topics

pytestmark = pytest.mark.integration

TopicFactory = Callable[..., Awaitable[str]]


async def _known_then_another_tracked(
    bootstrap: str, topic_factory: TopicFactory, *, track: bool
) -> tuple[AIOKafkaProducer, str]:
    """A producer that wrote to ``written`` after a full-metadata fetch, then to a
    topic created after it (so that one is tracked); returns (producer, written)."""
    written = await topic_factory()
    producer = new_producer(KafkaConnection(bootstrap))
    await producer.start()
    await producer.client.force_metadata_update()  # nothing tracked: every topic fetched
    assert written in producer.client.cluster.topics()
    if track:
        await track_topics(producer, [written])
    await producer.send_and_wait(written, b"first")
    later = await topic_factory()
    await producer.send_and_wait(later, b"tracked now")
    await producer.client.force_metadata_update()
    return producer, written


async def test_aiokafka_forgets_a_topic_it_wrote_to_without_tracking_it(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    """The behaviour worked around: if aiokafka changes it, this fails and
    ``track_topics`` can go."""
    producer, written = await _known_then_another_tracked(
        kafka_bootstrap, topic_factory, track=False
    )
    try:
        assert written not in producer.client.cluster.topics()
        assert producer.client.cluster.leader_for_partition(TopicPartition(written, 0)) is None
    finally:
        await producer.stop()


async def test_a_tracked_topic_keeps_its_leader_and_takes_writes(
    kafka_bootstrap: str, topic_factory: TopicFactory
) -> None:
    producer, written = await _known_then_another_tracked(
        kafka_bootstrap, topic_factory, track=True
    )
    try:
        assert written in producer.client.cluster.topics()
        assert producer.client.cluster.leader_for_partition(TopicPartition(written, 0)) is not None
        metadata = await producer.send_and_wait(written, b"second")
        assert metadata.offset == 1
    finally:
        await producer.stop()
