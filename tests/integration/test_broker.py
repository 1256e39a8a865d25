"""The local Kafka broker serves every client feature streamsec relies on (aiokafka 0.14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streamsec.broker import LocalBroker, probe
from streamsec.settings import load_settings

pytestmark = pytest.mark.integration


async def test_round_trip_keeps_keys_values_headers_and_key_order(
    topic_factory, kafka_produce, kafka_consume
):
    topic = await topic_factory(partitions=3)
    records = [
        (f"customer-{i % 5}", {"seq": i, "email": f"user{i}@example.com"}, {"trace": f"t{i}"})
        for i in range(30)
    ]
    metadata = await kafka_produce(topic, records)
    assert {m.partition for m in metadata} <= {0, 1, 2}

    got = await kafka_consume(topic, expected=30)

    assert len(got) == 30
    by_seq = {json.loads(r.value)["seq"]: r for r in got}
    assert sorted(by_seq) == list(range(30))
    for i, record in by_seq.items():
        assert record.key == f"customer-{i % 5}".encode()
        assert json.loads(record.value)["email"] == f"user{i}@example.com"
        assert dict(record.headers) == {"trace": f"t{i}".encode()}
    per_key: dict[bytes, list[int]] = defaultdict(list)
    partitions_of_key: dict[bytes, set[int]] = defaultdict(set)
    for record in got:
        per_key[record.key].append(json.loads(record.value)["seq"])
        partitions_of_key[record.key].add(record.partition)
    assert all(seqs == sorted(seqs) for seqs in per_key.values())
    assert all(len(parts) == 1 for parts in partitions_of_key.values())


async def test_consumer_group_commit_resumes_after_committed_offset(
    kafka_bootstrap, topic_factory, group_factory, kafka_produce
):
    topic = await topic_factory(partitions=2)
    group = group_factory()
    await kafka_produce(topic, [(f"k{i}", f"first-{i}") for i in range(10)])

    first = await _read_group(kafka_bootstrap, topic, group, expected=10)
    assert sorted(first) == sorted(f"first-{i}" for i in range(10))

    await kafka_produce(topic, [(f"k{i}", f"second-{i}") for i in range(5)])
    second = await _read_group(kafka_bootstrap, topic, group, expected=5)
    assert sorted(second) == sorted(f"second-{i}" for i in range(5))

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    assert sum(meta.offset for meta in offsets.values()) == 15


async def _read_group(bootstrap: str, topic: str, group: str, *, expected: int) -> list[str]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    values: list[str] = []
    try:
        for _ in range(150):
            batch = await consumer.getmany(timeout_ms=200)
            values.extend(m.value.decode() for ms in batch.values() for m in ms)
            if len(values) >= expected:
                break
        await consumer.commit()
    finally:
        await consumer.stop()
    return values


async def test_idempotent_producer(kafka_bootstrap, topic_factory, kafka_consume):
    topic = await topic_factory(partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        offsets = [
            (await producer.send_and_wait(topic, f"v{i}".encode())).offset for i in range(20)
        ]
    finally:
        await producer.stop()
    assert offsets == list(range(20))
    got = await kafka_consume(topic, expected=20, settle=0.5)
    assert [r.value for r in got] == [f"v{i}".encode() for i in range(20)]


async def test_transactional_consume_transform_produce(
    kafka_bootstrap, topic_factory, group_factory, kafka_produce, kafka_consume
):
    """The path Faust's exactly-once takes: output and input offsets commit atomically;
    an aborted transaction is invisible to read_committed consumers."""
    source = await topic_factory(partitions=2)
    sink = await topic_factory(partitions=2)
    group = group_factory()
    await kafka_produce(source, [(f"k{i}", f"in-{i}") for i in range(12)])

    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=f"tx-{group}")
    await consumer.start()
    await producer.start()
    try:
        seen: dict[TopicPartition, int] = {}
        messages = []
        for _ in range(150):
            batch = await consumer.getmany(timeout_ms=200)
            for tp, ms in batch.items():
                messages.extend(ms)
                seen[tp] = ms[-1].offset + 1
            if len(messages) >= 12:
                break
        assert len(messages) == 12
        async with producer.transaction():
            for m in messages:
                await producer.send(sink, m.value.replace(b"in-", b"out-"), key=m.key)
            await producer.send_offsets_to_transaction(seen, group)

        await producer.begin_transaction()
        await producer.send(sink, b"aborted", key=b"x")
        await producer.abort_transaction()
        committed = {tp: await consumer.committed(tp) for tp in seen}
    finally:
        await producer.stop()
        await consumer.stop()

    assert committed == seen
    out = await kafka_consume(sink, expected=12, settle=1.0)
    assert sorted(r.value for r in out) == sorted(f"out-{i}".encode() for i in range(12))
    uncommitted = await kafka_consume(
        sink, expected=13, timeout=5, isolation_level="read_uncommitted"
    )
    assert b"aborted" in {r.value for r in uncommitted}

    # Without ``expected`` the helper drains what is there, past the transaction markers.
    started = time.monotonic()
    drained = await kafka_consume(sink, timeout=20)
    assert len(drained) == 12
    assert time.monotonic() - started < 10


async def test_stop_and_kill_then_restart_keep_data_and_port(
    private_broker: LocalBroker, kafka_produce, kafka_consume
):
    bootstrap = private_broker.start(timeout=180)
    topic = "restart-check"
    await kafka_produce(
        topic, [(f"k{i}", f"before-stop-{i}") for i in range(10)], bootstrap=bootstrap
    )

    assert private_broker.stop(timeout=30) is True
    assert not private_broker.is_running()
    assert probe(bootstrap, timeout=1) is None
    assert private_broker.start(timeout=180) == bootstrap

    await kafka_produce(
        topic, [(f"k{i}", f"before-kill-{i}") for i in range(5)], bootstrap=bootstrap
    )
    assert private_broker.kill() is True
    assert probe(bootstrap, timeout=1) is None
    assert private_broker.start(timeout=180) == bootstrap

    got = await kafka_consume(topic, expected=15, timeout=60, bootstrap=bootstrap)
    values = [r.value.decode() for r in got]
    expected = [f"before-stop-{i}" for i in range(10)] + [f"before-kill-{i}" for i in range(5)]
    assert values == expected


def test_cli_up_status_down(tmp_path: Path, kafka_bootstrap: str):
    """``broker up`` prints the bootstrap last and is idempotent; ``down`` stops it.
    Runs in a home of its own that shares the downloaded jars."""
    home = tmp_path / "home"
    shared_dist = load_settings().home.resolve() / "kafka" / "dist"
    if not shared_dist.is_dir():
        pytest.skip("the broker was not downloaded into the default home")
    (home / "kafka").mkdir(parents=True)
    (home / "kafka" / "dist").symlink_to(shared_dist)
    env = {k: v for k, v in os.environ.items() if k != "STREAMSEC_BROKER"}
    env["STREAMSEC_HOME"] = str(home)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "streamsec.cli.main", "broker", *args],
            env=env, capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip

    try:
        up = cli("up")
        assert up.returncode == 0, up.stderr
        bootstrap = up.stdout.strip().splitlines()[-1]
        assert bootstrap.startswith("127.0.0.1:")
        assert bootstrap != kafka_bootstrap
        again = cli("up")
        assert again.stdout.strip().splitlines()[-1] == bootstrap
        status = cli("status", "--json")
        assert status.returncode == 0
        fields = json.loads(status.stdout)
        assert fields["reachable"] is True
        assert fields["brokers"] == 1
        assert fields["bootstrap"] == bootstrap
    finally:
        down = cli("down")
    assert down.returncode == 0
    assert down.stdout.strip() == "stopped"
    after = cli("status", "--json")
    assert after.returncode == 1
    assert json.loads(after.stdout)["running"] is False
