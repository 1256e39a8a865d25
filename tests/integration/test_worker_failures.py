"""Failures a worker must survive without losing a record: SIGKILL mid-stream (at-least-once
and exactly-once), losing one of two workers, and the broker going away and coming back."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streamsec.crypto.keyring_setup import init_keyring
from streamsec.events.signing import FileSigner
from streamsec.events.trust import TrustStore
from streamsec.events.verify import verify
from streamsec.worker.process import WorkerProcess, read_topics

pytestmark = pytest.mark.integration

FAKE = ["--detector", "streamsec.testing:FakeDetector"]


async def wait_for_members(
    bootstrap: str, group: str, topic: str, count: int, timeout: float = 120
) -> None:
    """Until ``group`` is stable with ``count`` members that each hold a partition of
    ``topic`` (a fixed sleep was too short for two workers starting on a loaded machine)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (response,) = await admin.describe_consumer_groups([group])
            (state,) = response.to_object()["groups"]
            members = state["members"]
            if state["state"] == "Stable" and len(members) == count and all(
                topic.encode() in m["member_assignment"] for m in members
            ):
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"group {group} never had {count} members with partitions")
    finally:
        await admin.close()


def deployment(
    tmp_path: Path, bootstrap: str, topics: dict[str, str], **env: str
) -> tuple[Path, dict[str, str]]:
    topology = tmp_path / "topology.yaml"
    topology.write_text(
        "name: failover\n" + "".join(f"{k}: {v}\n" for k, v in topics.items())
        + "fields:\n  name: encrypt\n",
        encoding="utf-8",
    )
    keyring = tmp_path / "keyring.json"
    if not keyring.exists():
        init_keyring(keyring)
    return topology, {
        "STREAMSEC_BROKER": bootstrap, "STREAMSEC_HOME": str(tmp_path / "home"),
        "STREAMSEC_KEYRING": str(keyring), "STREAMSEC_METRICS_PORT": "0",
        "STREAMSEC_WEB_PORT": "0", **env,
    }


async def make_topics(topic_factory: Any, partitions: int) -> dict[str, str]:
    return {
        "input": await topic_factory(partitions), "output": await topic_factory(partitions),
        "dead_letter": await topic_factory(1), "audit": await topic_factory(1),
        "lineage": await topic_factory(1),
    }


def records(n: int, start: int = 0) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(start, start + n):
        value = b"{oops" if i % 50 == 3 else json.dumps(
            {"id": i, "name": f"Person {i}", "email": f"p{i}@example.com"}).encode()
        out.append((f"k-{i:06d}".encode(), value))
    return out


def keys_of(got: dict[str, list[Any]], *topics: str) -> Counter[bytes]:
    return Counter(r.key for t in topics for r in got[t])


async def wait_progress(bootstrap: str, topic: str, at_least: int, worker: WorkerProcess) -> int:
    got = await read_topics(bootstrap, [topic], at_least, timeout=120, alive=lambda: worker.running)
    return len(got[topic])


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
async def test_sigkill_mid_stream_loses_nothing(
    guarantee, tmp_path, kafka_bootstrap, topic_factory, group_factory, kafka_produce,
    kafka_consume,
):
    topics = await make_topics(topic_factory, partitions=3)
    topology, env = deployment(tmp_path, kafka_bootstrap, topics, STREAMSEC_BATCH_SIZE="20")
    sent = records(6000)
    await kafka_produce(topics["input"], sent)
    args = [*FAKE, "--app-id", group_factory(), "--processing-guarantee", guarantee]
    first = WorkerProcess([topology], env=env, args=args, log_file=tmp_path / "w1.log").start()
    try:
        seen = await wait_progress(kafka_bootstrap, topics["output"], 600, first)
    finally:
        first.kill()
    assert seen < 5880, "the worker finished before it could be killed mid-stream"
    second = WorkerProcess([topology], env=env, args=args, log_file=tmp_path / "w2.log").start()
    try:
        got = await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], 6000, timeout=180,
            alive=lambda: second.running, settle=3,
        )
    finally:
        assert second.stop() == 0
    keys = keys_of(got, topics["output"], topics["dead_letter"])
    assert set(keys) == {k for k, _ in sent}, f"{6000 - len(keys)} records lost"
    assert len(got[topics["dead_letter"]]) >= 120
    if guarantee == "exactly_once":
        assert max(keys.values()) == 1, f"{sum(v > 1 for v in keys.values())} duplicated"
    signer = FileSigner.open(Path(os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]), create=False)
    trail = [r.value for r in await kafka_consume(topics["audit"], timeout=30)]
    report = verify(trail, TrustStore.of_signers(signer.public_key()))
    assert report.ok, report.first_problems[:5]  # the kill: abandoned chains, not tampering
    print(f"{guarantee}: killed after {seen} outputs; {sum(keys.values()) - 6000} duplicates; "
          f"audit intact, {len(report.abandoned)} chains abandoned by the successor")


async def test_two_workers_share_partitions_and_one_takes_over(
    tmp_path, kafka_bootstrap, topic_factory, group_factory, kafka_produce, kafka_consume
):
    topics = await make_topics(topic_factory, partitions=4)
    topology, env = deployment(tmp_path, kafka_bootstrap, topics)
    app_id = group_factory()
    workers = [
        WorkerProcess(
            [topology], env=env, args=[*FAKE, "--app-id", app_id, "--worker-id", name],
            log_file=tmp_path / f"{name}.log",
        ).start()
        for name in ("alpha", "beta")
    ]
    try:
        await wait_for_members(kafka_bootstrap, app_id, topics["input"], 2)  # both hold partitions
        first = records(800)
        await kafka_produce(topics["input"], first)
        got = await read_topics(  # the records, then their batch audit events
            kafka_bootstrap, [topics["output"], topics["dead_letter"], topics["audit"]],
            800 + 8, timeout=120, alive=lambda: all(w.running for w in workers), settle=2,
        )
        by_worker: dict[str, set[int]] = {}
        for r in got[topics["audit"]]:
            event = json.loads(r.value)
            if event["type"] == "io.streamsec.records.batch":  # not checkpoints
                data = event["data"]
                by_worker.setdefault(data["worker"], set()).add(data["source"]["partition"])
        assert set(by_worker) == {"alpha", "beta"}, by_worker
        assert not by_worker["alpha"] & by_worker["beta"], "a partition was read by both"
        assert by_worker["alpha"] | by_worker["beta"] == {0, 1, 2, 3}

        assert workers[0].stop() == 0  # alpha leaves: beta must take its partitions
        second = records(800, start=800)
        await kafka_produce(topics["input"], second)
        got = await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], 1600, timeout=120,
            alive=lambda: workers[1].running, settle=2,
        )
    finally:
        for w in workers:
            w.stop()
    keys = keys_of(got, topics["output"], topics["dead_letter"])
    assert set(keys) == {k for k, _ in first + second}
    late = {
        int(dict(r.headers)["streamsec.source.partition"])
        for r in got[topics["output"]] if int(r.key[2:]) >= 800
    }
    assert late == {0, 1, 2, 3}, "beta did not take over every partition"
    # the audit trail of both: every chain closed by its own writer, none taken for dead
    signer = FileSigner.open(Path(os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]), create=False)
    trail = [r.value for r in await kafka_consume(topics["audit"], timeout=30)]
    report = verify(trail, TrustStore.of_signers(signer.public_key()))
    assert report.ok, report.first_problems[:5]
    assert report.abandoned == [] and report.digests >= 2


async def _create(bootstrap: str, topics: dict[str, str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, partitions, 1) for t in topics.values()])
    finally:
        await admin.close()


async def test_broker_restart_mid_stream_worker_recovers(
    tmp_path, private_broker, group_factory, kafka_produce, unique_name
):
    bootstrap = private_broker.start()
    topics = {k: unique_name(k[:3]) for k in ("input", "output", "dead_letter", "audit", "lineage")}
    await _create(bootstrap, topics, 2)
    topology, env = deployment(tmp_path, bootstrap, topics, STREAMSEC_BATCH_SIZE="20")
    sent = records(4000)
    await kafka_produce(topics["input"], sent, bootstrap=bootstrap)
    worker = WorkerProcess(
        [topology], env=env, args=[*FAKE, "--app-id", group_factory()],
        log_file=tmp_path / "worker.log",
    ).start()
    try:
        seen = await wait_progress(bootstrap, topics["output"], 400, worker)
        private_broker.stop()
        down = time.monotonic()
        await asyncio.sleep(8)
        assert worker.running, "the worker died with the broker"
        assert private_broker.start() == bootstrap
        got = await read_topics(
            bootstrap, [topics["output"], topics["dead_letter"]], 4000, timeout=240,
            alive=lambda: worker.running, settle=2,
        )
        recovered = time.monotonic() - down
    finally:
        worker.stop()
    keys = keys_of(got, topics["output"], topics["dead_letter"])
    assert set(keys) == {k for k, _ in sent}, f"{4000 - len(keys)} records lost"
    print(f"broker down after {seen} outputs; all 4000 done {recovered:.1f}s after the stop")
