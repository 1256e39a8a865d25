"""Exactly-once: the group's committed offset only ever moves forward.

Each partition's offset is committed by its transaction. A plain commit from Faust's
consumer (of an ack older than the transaction in flight) could land between a
transaction's offsets and its markers and win over them: the offset went back by a
batch, and whoever owned the partition next delivered that batch a second time (CI:
``10016 == 10000`` with two workers). ``test_transactions.py`` shows the broker's side
of it; here a real worker is watched while it runs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from streamsec.kafka import KafkaConnection, new_admin
from streamsec.worker.process import WorkerProcess, read_topics
from tests.integration.test_worker_failures import FAKE, deployment, make_topics, records

pytestmark = pytest.mark.integration

N = 10_000


async def test_the_committed_offset_never_goes_back_while_an_exactly_once_worker_runs(
    tmp_path: Path, kafka_bootstrap: str, topic_factory: Any, group_factory: Any,
    kafka_produce: Any,
) -> None:
    """Faust's consumer committing too, the watcher saw the offset go back 17 and 9
    times in two runs; it must never."""
    topics = await make_topics(topic_factory, partitions=4)
    topology, env = deployment(tmp_path, kafka_bootstrap, topics, STREAMSEC_BATCH_SIZE="20")
    sent = records(N)
    await kafka_produce(topics["input"], sent)
    group = group_factory()
    args = [*FAKE, "--app-id", group, "--processing-guarantee", "exactly_once"]
    admin = new_admin(KafkaConnection(kafka_bootstrap))
    await admin.start()
    highest: dict[Any, int] = {}
    back: list[tuple[Any, int, int]] = []
    polls = 0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal polls
        while not done.is_set():
            for tp, meta in (await admin.list_consumer_group_offsets(group)).items():
                if meta.offset < highest.get(tp, -1):
                    back.append((tp, highest[tp], meta.offset))
                highest[tp] = max(highest.get(tp, -1), meta.offset)
            polls += 1
            await asyncio.sleep(0.005)

    worker = WorkerProcess([topology], env=env, args=args, log_file=tmp_path / "w.log").start()
    watcher = asyncio.ensure_future(watch())
    try:
        got = await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], N, timeout=240,
            alive=lambda: worker.running, settle=1,
        )
    finally:
        done.set()
        await watcher
        assert worker.stop() == 0
        await admin.close()
    print(f"{polls} polls of the group's offsets, {len(back)} went back: {back[:3]}")
    keys = Counter(r.key for t in (topics["output"], topics["dead_letter"]) for r in got[t])
    assert set(keys) == {k for k, _ in sent} and max(keys.values()) == 1
    assert polls > 100 and sum(highest.values()) == N
    assert back == []
