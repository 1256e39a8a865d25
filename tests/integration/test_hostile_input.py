"""Hostile and huge input, and churn, on the real broker (issue 16).

* ``test_hostile_mix_two_workers_exactly_once``: 10,000 records of every hostile kind
  (streamsec.testing.hostile) to a 4-partition raw topic that accepts 4 MB records,
  two workers with the real detector at DEBUG, exactly-once, both configured with
  the same metrics and web ports: lag drains, every record ends exactly once as a
  protected record or a dead letter with the expected reason, no personal value in
  clear in the protected, audit or lineage topics or the logs, distinct ports, and
  each worker stops on SIGTERM within its deadline.
* ``test_churn_six_joins_and_leaves``: 40,000 records while workers join and leave
  the group six times: nothing lost, no worker wedged, every stop in its deadline.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streamsec.crypto.keyring_setup import init_keyring
from streamsec.pipeline import headers as h
from streamsec.testing.hostile import HostileRecord, clear_forms, hostile_mix
from streamsec.worker.process import WorkerProcess, read_topics

pytestmark = [pytest.mark.integration, pytest.mark.hostile]

STOP_TIMEOUT = 20.0
RAW_LIMIT = str(4 * 1024 * 1024)


def deployment(tmp_path: Path, bootstrap: str, topics: dict[str, str], **env: str) -> tuple[
    Path, dict[str, str]
]:
    topology = tmp_path / "topology.yaml"
    topology.write_text(
        "name: hostile\n" + "".join(f"{k}: {v}\n" for k, v in topics.items()), encoding="utf-8"
    )
    keyring = tmp_path / "keyring.json"
    init_keyring(keyring)
    return topology, {
        "STREAMSEC_BROKER": bootstrap, "STREAMSEC_HOME": str(tmp_path / "home"),
        "STREAMSEC_KEYRING": str(keyring), "STREAMSEC_STOP_TIMEOUT": str(STOP_TIMEOUT), **env,
    }


async def make_topics(topic_factory: Any, partitions: int) -> dict[str, str]:
    return {
        "input": await topic_factory(partitions, config={"max.message.bytes": RAW_LIMIT}),
        "output": await topic_factory(partitions), "dead_letter": await topic_factory(1),
        "audit": await topic_factory(1), "lineage": await topic_factory(1),
    }


async def produce(bootstrap: str, topic: str, records: list[HostileRecord]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
        max_request_size=int(RAW_LIMIT),
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, r.value, key=r.key) for r in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def lag(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    """Records of ``topic`` the group has not committed yet."""
    from aiokafka import AIOKafkaConsumer

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await consumer.end_offsets(tps)
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        return sum(ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps)
    finally:
        await consumer.stop()
        await admin.close()


async def drain(bootstrap: str, group: str, topic: str, partitions: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    left = await lag(bootstrap, group, topic, partitions)
    while left and time.monotonic() < deadline:
        await asyncio.sleep(1)
        left = await lag(bootstrap, group, topic, partitions)
    return left


def timed_stop(worker: WorkerProcess) -> tuple[float, int | None]:
    started = time.monotonic()
    code = worker.stop(timeout=STOP_TIMEOUT + 30)
    return time.monotonic() - started, code


def free_base_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_log(path: Path, pattern: str, worker: WorkerProcess, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and worker.running:
        text = path.read_text("utf-8", "replace") if path.exists() else ""
        match = re.search(pattern, text)
        if match:
            return match.group(0)
        time.sleep(0.3)
    raise AssertionError(f"{path.name}: no line matching {pattern!r}")


_INVISIBLE = ("\u200b", "\\u200b", "\x00", "\\u0000", "\\u200B")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_TOKEN = re.compile(r"[bdfghjkmnqrtvwxz]{6}\d+")
_PHONE = re.compile(r"415\)?[ -]\d{3}-\d{4}")


def _readable(text: str) -> str:
    """``text`` as a reader would see it: escapes decoded, invisible characters gone,
    look-alikes folded (NFKC), so a token written any way shows as plain ASCII."""
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    for invisible in _INVISIBLE:
        text = text.replace(invisible, "")
    return unicodedata.normalize("NFKC", text).translate(_LATIN)


_LATIN = str.maketrans("\u0430\u0435\u043e\u0440\u0441", "aeopc")


class Leaks:
    """Finds the hostile mix's personal values in clear, in one pass over a text: each
    value holds a unique token (``hostile._Maker.token``), or is a 415 phone number."""

    def __init__(self, mix: list[HostileRecord]) -> None:
        self.tokens = {t for r in mix for s in r.secrets for t in _TOKEN.findall(_readable(s))}

    def found(self, blobs: list[bytes | str]) -> set[str]:
        text = _readable("\n".join(
            b.decode("utf-8", "replace") if isinstance(b, bytes) else b for b in blobs
        ))
        return (set(_TOKEN.findall(text)) & self.tokens) | set(_PHONE.findall(text))


def exact_leaks(records: list[Any], of: dict[Any, HostileRecord]) -> int:
    """Each message against its own record's values, in every JSON form."""
    count = 0
    for record in records:
        want = of.get(record.key)
        if want is None:
            continue
        text = b"".join([record.key or b"", record.value or b""]).decode("utf-8", "replace")
        count += sum(f in text for s in want.secrets for f in clear_forms(s))
    return count


def message_blobs(records: list[Any]) -> list[bytes | str]:
    return [
        part for r in records
        for part in (r.key or b"", r.value or b"", *(v for _, v in r.headers or ()))
    ]


async def test_hostile_mix_two_workers_exactly_once(
    tmp_path, kafka_bootstrap, topic_factory, group_factory, kafka_consume
):
    topics = await make_topics(topic_factory, partitions=4)
    base = free_base_port()
    topology, env = deployment(
        tmp_path, kafka_bootstrap, topics, STREAMSEC_RECORD_TIME_BUDGET="5",
        STREAMSEC_METRICS_PORT=str(base), STREAMSEC_WEB_PORT=str(base + 40),
        STREAMSEC_LOG_LEVEL="DEBUG",
    )
    group = group_factory()
    args = ["--app-id", group, "--processing-guarantee", "exactly_once"]
    logs = [tmp_path / "alpha.log", tmp_path / "beta.log"]
    workers: list[WorkerProcess] = []
    for name, log in zip(("alpha", "beta"), logs, strict=True):
        worker = WorkerProcess(
            [topology], env=env, args=[*args, "--worker-id", name], log_file=log,
            log_level="DEBUG",
        ).start()
        workers.append(worker)
        wait_for_log(log, r"ports: metrics \d+, web \d+", worker, timeout=120)
        wait_for_log(log, r"detectors ready", worker, timeout=120)
        await asyncio.sleep(2)  # its metrics and web ports are bound before the next starts
    ports = [wait_for_log(log, r"ports: metrics \d+, web \d+", w, 5) for log, w in
             zip(logs, workers, strict=True)]
    assert ports[0] != ports[1], ports
    mix = hostile_mix(10_000)
    by_key = {r.key: r for r in mix}
    await asyncio.sleep(10)  # both in the group before the first record
    started = time.monotonic()
    await produce(kafka_bootstrap, topics["input"], mix)
    try:
        got = await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], len(mix), timeout=420,
            alive=lambda: all(w.running for w in workers), settle=3,
        )
        left = await drain(kafka_bootstrap, group, topics["input"], 4, timeout=60)
        took = time.monotonic() - started
        events = {
            t: await kafka_consume(t, timeout=60) for t in (topics["audit"], topics["lineage"])
        }
    finally:
        stops = [timed_stop(w) for w in workers]
    out, dead = got[topics["output"]], got[topics["dead_letter"]]
    keys = Counter(r.key for r in out + dead)
    lost = set(by_key) - set(keys)
    print(f"hostile mix: {len(out)} protected, {len(dead)} dead letters in {took:.0f} s; "
          f"lag {left}; stops {[(round(s, 1), c) for s, c in stops]}")
    assert left == 0, f"lag did not drain: {left}"
    assert not lost, f"{len(lost)} records lost: {Counter(by_key[k].kind for k in lost)}"
    assert max(keys.values()) == 1, f"{sum(v > 1 for v in keys.values())} duplicated"
    wrong = Counter()
    for record in dead:
        reason = dict(record.headers).get(h.REASON, b"").decode()
        assert reason, "a dead letter without a reason"
        want = by_key[record.key]
        if want.expect == "protected" or (want.reason and want.reason != reason):
            wrong[(want.kind, want.reason, reason)] += 1
    for record in out:
        want = by_key[record.key]
        if want.expect == "dead":
            wrong[(want.kind, want.reason, None)] += 1
    assert not wrong, f"unexpected outcomes: {dict(wrong)}"
    references = [r for r in dead if dict(r.headers).get(h.FORM) == b"reference"]
    assert {by_key[r.key].kind for r in references} == {"just_over_1mib", "record_2mb"}
    leaks = Leaks(mix)
    assert len(leaks.tokens) > 4_000
    for topic in ("output", "audit", "lineage"):
        found = leaks.found(message_blobs(events.get(topics[topic], got.get(topics[topic], []))))
        assert not found, f"{len(found)} personal values in clear in the {topic} topic"
    assert exact_leaks(out, by_key) == 0
    log_text = [log.read_text("utf-8", "replace") for log in logs]
    assert all(" DEBUG streamsec.worker.agents: hostile: batch of" in t for t in log_text)
    found = leaks.found(log_text)
    assert not found, f"{len(found)} personal values in a DEBUG log"
    assert sum(text.count(" ERROR ") for text in log_text) < 50
    for seconds, code in stops:
        assert seconds < STOP_TIMEOUT and code == 0, (seconds, code)


async def test_churn_six_joins_and_leaves(
    tmp_path, kafka_bootstrap, topic_factory, group_factory, kafka_consume
):
    topics = await make_topics(topic_factory, partitions=4)
    topology, env = deployment(
        tmp_path, kafka_bootstrap, topics, STREAMSEC_METRICS_PORT="0", STREAMSEC_WEB_PORT="0",
        STREAMSEC_BATCH_SIZE="50",
    )
    group = group_factory()
    args = ["--app-id", group, "--detector", "streamsec.testing:FakeDetector"]
    mix = hostile_mix(40_000, seed=61, heavy=0)
    slices = [mix[i : i + 5_000] for i in range(0, len(mix), 5_000)]

    def start(n: int) -> WorkerProcess:
        worker = WorkerProcess(
            [topology], env=env, args=[*args, "--worker-id", f"w{n}"],
            log_file=tmp_path / f"w{n}.log",
        ).start()
        wait_for_log(tmp_path / f"w{n}.log", r"Worker ready", worker, timeout=120)
        return worker

    running = [start(0)]
    stops: list[tuple[float, int | None]] = []
    started = time.monotonic()
    try:
        await produce(kafka_bootstrap, topics["input"], slices[0])
        for cycle in range(1, 7):  # six joins and six leaves, records flowing
            await produce(kafka_bootstrap, topics["input"], slices[cycle])
            running.append(start(cycle))  # joins: a rebalance with records in flight
            await asyncio.sleep(3)
            stops.append(timed_stop(running.pop(0)))  # leaves mid-stream
        await produce(kafka_bootstrap, topics["input"], slices[7])
        left = await drain(kafka_bootstrap, group, topics["input"], 4, timeout=240)
        assert all(w.running for w in running)
        # at-least-once: a rebalance may redeliver, so read everything, not a count
        got = {t: await kafka_consume(t, timeout=60) for t in (topics["output"],
                                                                topics["dead_letter"])}
    finally:
        stops += [timed_stop(w) for w in running]
    keys = {r.key for t in got.values() for r in t}
    duplicates = sum(map(len, got.values())) - len(keys)
    lost = {r.key for r in mix} - keys
    print(f"churn: {len(mix)} records, 6 joins/leaves in {time.monotonic() - started:.0f} s; "
          f"lag {left}; {duplicates} redelivered (at-least-once); "
          f"stops {[(round(s, 1), c) for s, c in stops]}")
    assert not lost, f"{len(lost)} records lost"
    assert left == 0, f"a worker is wedged: lag {left}"
    for seconds, code in stops:
        assert seconds < STOP_TIMEOUT and code == 0, (seconds, code)
    for log in tmp_path.glob("w*.log"):
        assert "wait_empty" not in log.read_text("utf-8", "replace")


async def test_sigterm_and_logs_while_the_broker_is_down(
    tmp_path, private_broker, group_factory, unique_name
):
    from aiokafka.admin import NewTopic

    bootstrap = private_broker.start()
    topics = {k: unique_name(k[:3]) for k in ("input", "output", "dead_letter", "audit", "lineage")}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 2, 1) for t in topics.values()])
    finally:
        await admin.close()
    deadline = 10.0
    topology, env = deployment(
        tmp_path, bootstrap, topics, STREAMSEC_METRICS_PORT="0", STREAMSEC_WEB_PORT="0",
        STREAMSEC_BATCH_SIZE="20", STREAMSEC_STOP_TIMEOUT=str(deadline),
    )
    mix = hostile_mix(3_000, seed=5, heavy=0)
    await produce(bootstrap, topics["input"], mix)
    log = tmp_path / "worker.log"
    worker = WorkerProcess(
        [topology], env=env, args=["--app-id", group_factory(), "--detector",
                                   "streamsec.testing:FakeDetector"],
        log_file=log, log_level="DEBUG",
    ).start()
    try:
        await read_topics(bootstrap, [topics["output"]], 300, timeout=120,
                          alive=lambda: worker.running)
        private_broker.kill()
        before = log.stat().st_size
        await asyncio.sleep(13)
        assert worker.running, "the worker died with the broker"
        outage = log.read_bytes()[before:].decode("utf-8", "replace")
    finally:
        seconds, code = timed_stop(worker)
    lines = outage.count("\n")
    errors = outage.count(" ERROR ")
    print(f"broker down 13 s: {lines} log lines ({errors} ERROR); SIGTERM -> exit {code} "
          f"in {seconds:.1f} s")
    shapes = Counter(
        re.sub(r"\d+", "N", line.split(" ", 2)[-1])[:120] for line in outage.splitlines()
        if " ERROR " in line
    )
    print("most frequent ERROR lines:", shapes.most_common(3))
    assert lines < 500 and errors < 100, (lines, errors)
    assert seconds < deadline + 2 and code in (0, 3), (seconds, code)


async def test_sigterm_mid_batch_of_huge_records(
    tmp_path, kafka_bootstrap, topic_factory, group_factory, kafka_consume
):
    topics = await make_topics(topic_factory, partitions=1)
    topology, env = deployment(
        tmp_path, kafka_bootstrap, topics, STREAMSEC_METRICS_PORT="0", STREAMSEC_WEB_PORT="0",
        STREAMSEC_RECORD_TIME_BUDGET="60", STREAMSEC_MAX_TEXT_CHARS="1000000",
        STREAMSEC_MAX_RECORD_BYTES="1048576",
    )
    huge = [r for r in hostile_mix(400, seed=9, heavy=1) if r.kind == "dense_text_150k"]
    batch = [
        HostileRecord("dense", f"d-{i}".encode(), (huge[0].value or b"").replace(b"{", b"{ ", 1)
                      if i % 2 else huge[0].value, "either")
        for i in range(6)
    ]
    await produce(kafka_bootstrap, topics["input"], batch)
    args = ["--app-id", group_factory()]
    first = WorkerProcess([topology], env=env, args=args, log_file=tmp_path / "w1.log").start()
    try:
        wait_for_log(tmp_path / "w1.log", r"Worker ready", first, timeout=120)
        await asyncio.sleep(3)  # well inside the batch: 6 records of ~150k characters
    finally:
        seconds, code = timed_stop(first)
    done_first = sum([len(await kafka_consume(topics[t], timeout=30))
                      for t in ("output", "dead_letter")])
    assert done_first < len(batch), "the batch was over before the SIGTERM"
    quick = {**env, "STREAMSEC_RECORD_TIME_BUDGET": "1"}  # the rest may end as too_slow
    second = WorkerProcess([topology], env=quick, args=args, log_file=tmp_path / "w2.log").start()
    try:
        got = await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], len(batch), timeout=300,
            alive=lambda: second.running,
        )
    finally:
        timed_stop(second)
    keys = {r.key for t in got.values() for r in t}
    print(f"SIGTERM mid-batch of 6 x 150k-character records: exit {code} in {seconds:.1f} s; "
          f"{done_first} done before it; the restart finished {len(keys)} of {len(batch)}")
    assert seconds < 5 and code == 0, (seconds, code)
    assert keys == {r.key for r in batch}
