"""A real ``streamsec worker`` on the real broker: every record ends as exactly one
protected or one dead-letter record, and no sensitive value reaches an output."""

from __future__ import annotations

import json
import random
import re
import socket
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from streamsec.crypto.keyring_setup import init_keyring
from streamsec.pipeline.headers import REASON
from streamsec.testing.corpus import generate_corpus
from streamsec.testing.lineage_schema import LineageSchemaValidator
from streamsec.worker.process import WorkerProcess, read_topics

pytestmark = pytest.mark.integration

# FakeDetector finds emails, SSNs, cards and phones; field rules cover what it cannot
# (names, addresses, IBANs, whole free-text bodies), so the check below is strict.
RULES = """
fields:
  full_name: encrypt
  email: {action: encrypt, deterministic: true}
  phone: encrypt
  date_of_birth: encrypt
  address.street: encrypt
  address.city: encrypt
  address.zip: encrypt
  card.number: {action: mask, keep_last: 4}
  card.holder: encrypt
  payout.iban: encrypt
  body: encrypt
  k1: encrypt
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def write_topology(path: Path, name: str, topics: dict[str, str], extra: str = RULES) -> Path:
    lines = [f"name: {name}"] + [f"{k}: {v}" for k, v in topics.items()]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


async def make_deployment(tmp_path: Path, topic_factory: Any, partitions: int) -> dict[str, str]:
    topics = {
        "input": await topic_factory(partitions),
        "output": await topic_factory(partitions),
        "audit": await topic_factory(1),
        "lineage": await topic_factory(1),
    }
    topics["dead_letter"] = await topic_factory(1)
    return topics


def worker_env(tmp_path: Path, bootstrap: str) -> dict[str, str]:
    keyring = tmp_path / "keyring.json"
    if not keyring.exists():
        init_keyring(keyring)
    return {
        "STREAMSEC_BROKER": bootstrap, "STREAMSEC_HOME": str(tmp_path / "home"),
        "STREAMSEC_KEYRING": str(keyring), "STREAMSEC_METRICS_PORT": "0",
        "STREAMSEC_WEB_PORT": "0",
    }


BAD = [
    b"{not json", b"[1,2,3]", b'"just a string"', b"\xff\xfe\x00",
    b'{"a":' * 40 + b"1" + b"}" * 40,
]


def mixed_records(
    n: int, seed: int = 11
) -> tuple[list[tuple[bytes, bytes]], dict[bytes, list[bytes]]]:
    """``n`` records keyed ``r-<i>``: the corpus with one bad record in 25; and the
    sensitive values of each record, by key."""
    corpus = generate_corpus(n, seed)
    records, secrets = [], {}
    for i, item in enumerate(corpus):
        key = f"r-{i:06d}".encode()
        if i % 25 == 7:
            records.append((key, BAD[i % len(BAD)]))
        else:
            records.append((key, json.dumps(item.record).encode()))
            kept = [str(v) for _, v in item.benign]  # "01525" is also in "C-701525"
            secrets[key] = [
                s.encode() for s in item.sensitive
                if len(s) >= 5 and not any(s in text for text in kept)
            ]
    return records, secrets


# A value inside a longer run of base64url characters is part of a ciphertext, digest
# or id, not a value in clear: a zip code "93528" turns up by chance in a SHA-256 hex
# digest about once in ten thousand audit events.
TOKEN = rb"[0-9A-Za-z_-]"


def find_in_clear(secret: bytes, blob: bytes) -> int:
    """Where ``secret`` stands on its own in ``blob`` (not inside a token), or -1."""
    match = re.search(rb"(?<!" + TOKEN + rb")" + re.escape(secret) + rb"(?!" + TOKEN + rb")", blob)
    return match.start() if match else -1


def test_the_leak_check_sees_values_in_clear_but_not_inside_digests() -> None:
    digest = b'"prev":"3c4bc9287d86f198db855b2fed62880259e867ab492ed42df435c9352867194c"'
    assert find_in_clear(b"93528", digest) == -1
    assert find_in_clear(b"93528", b'{"zip": "93528"}') == 9
    assert find_in_clear(b"Jane Roe", b'"body":"call Jane Roe at noon"') == 13


def leaks(records: list[Any], secrets_of: Any) -> list[tuple[bytes, bytes, bytes]]:
    """Sensitive values found in clear in ``records`` (key, value, where): ``secrets_of``
    names the values of the source record each one came from."""
    found = []
    for r in records:
        for s in secrets_of(r):
            at = find_in_clear(s, r.value) if r.value else -1
            if at >= 0:
                found.append((r.key, s, r.value[max(0, at - 60) : at + len(s) + 20]))
    return found


async def test_ten_thousand_mixed_records_each_end_exactly_once_without_leaks(
    tmp_path, kafka_bootstrap, topic_factory, group_factory, kafka_produce, kafka_consume
):
    topics = await make_deployment(tmp_path, topic_factory, partitions=4)
    topology = write_topology(tmp_path / "t.yaml", "tenk", topics)
    records, secrets = mixed_records(10_000)
    metadata = await kafka_produce(topics["input"], records)
    key_at = {(m.partition, m.offset): k for m, (k, _) in zip(metadata, records, strict=True)}
    started = time.monotonic()
    port = free_port()
    worker = WorkerProcess(
        [topology], env=worker_env(tmp_path, kafka_bootstrap), log_file=tmp_path / "worker.log",
        args=["--app-id", group_factory(), "--detector", "streamsec.testing:FakeDetector",
              "--metrics-port", str(port)],
    ).start()
    try:
        got = await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], 10_000,
            timeout=240, alive=lambda: worker.running, settle=2,
        )
        out, dead = got[topics["output"]], got[topics["dead_letter"]]
        metrics = scrape(port)
    finally:
        assert worker.stop() == 0
    elapsed = time.monotonic() - started
    keys = Counter(r.key for r in out) + Counter(r.key for r in dead)
    assert len(out) == 9_600, f"{len(out)} protected"
    assert len(dead) == 400
    assert set(keys) == {k for k, _ in records}
    assert max(keys.values()) == 1, "a record was emitted twice"
    assert {dict(r.headers)[REASON] for r in dead} <= {b"decode", b"too_deep"}
    audit = await kafka_consume(topics["audit"], timeout=60)  # all of it (+ signed checkpoints)
    lineage = await kafka_consume(topics["lineage"], timeout=30)  # everything there is
    listed = Counter(
        (event["data"]["source"]["partition"], r["offset"], r["outcome"])
        for event in (json.loads(a.value) for a in audit)
        if event["type"] == "io.streamsec.records.batch" for r in event["data"]["records"]
    )  # one audit event per batch and partition, listing each record once
    assert Counter(outcome for _p, _o, outcome in listed) == {
        "protected": 9_600, "dead_lettered": 400,
    }
    assert max(listed.values()) == 1
    run = [json.loads(r.value)["data"] for r in lineage]  # CloudEvents holding run events
    assert run[0]["eventType"] == "START"
    assert run[-1]["eventType"] == "COMPLETE"
    assert len(run) < 50, "lineage is per run and per shape change, not per record"
    validator = LineageSchemaValidator()
    for event in run:
        validator.validate(event)
    # Each output and event is checked against the values of its own source record...
    def of_event(r: Any) -> list[bytes]:
        event = json.loads(r.value)
        data = event.get("data", {})
        if event.get("type") == "io.streamsec.records.batch":  # every record it lists
            part = data["source"]["partition"]
            return [s for e in data["records"]
                    for s in secrets.get(key_at.get((part, e["offset"]), b""), [])]
        ref = data.get("record") or data.get("input") or {}
        return secrets.get(key_at.get((ref.get("partition"), ref.get("offset")), b""), [])

    assert leaks(out, lambda r: secrets[r.key]) == []
    assert leaks([*audit, *lineage], of_event) == []
    # ... and a sample of all values against everything, in case one strayed elsewhere
    # (long ones only: a 5-digit zip code turns up by chance in 30 MB of hex and ids).
    blob = b"\n".join(r.value for r in (*out, *audit, *lineage) if r.value)
    long_ones = sorted({s for v in secrets.values() for s in v if len(s) >= 10})
    sample = random.Random(3).sample(long_ones, 300)
    assert [s for s in sample if find_in_clear(s, blob) >= 0] == []
    assert 'streamsec_records_in_total{topology="tenk"} 10000.0' in metrics
    assert 'streamsec_records_out_total{topology="tenk"} 9600.0' in metrics
    dead_total = sum(
        float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
        if line.startswith("streamsec_records_dead_lettered_total{")
    )
    assert dead_total == 400
    assert [s for s in sample if s.decode() in metrics] == []
    print(f"10k records through one worker in {elapsed:.1f}s")


async def test_real_detector_end_to_end(
    tmp_path, kafka_bootstrap, topic_factory, group_factory, kafka_produce, kafka_consume
):
    """The production path: Presidio detector built from the topology, keyring cipher."""
    topics = await make_deployment(tmp_path, topic_factory, partitions=2)
    source = Path("topologies/customers.yaml").read_text(encoding="utf-8")
    body = "\n".join(
        line for line in source.splitlines()
        if not line.startswith(("name:", "input:", "output:", "audit:", "lineage:"))
    )
    topology = write_topology(tmp_path / "c.yaml", "customers-it", topics, "\n" + body)
    corpus = generate_corpus(120, seed=5)
    records = [(f"c-{i}".encode(), json.dumps(c.record).encode()) for i, c in enumerate(corpus)]
    records.append((b"c-bad", b"{broken"))
    await kafka_produce(topics["input"], records)
    worker = WorkerProcess(
        [topology], env=worker_env(tmp_path, kafka_bootstrap), log_file=tmp_path / "worker.log",
        args=["--app-id", group_factory()],
    ).start()
    try:
        got = await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], 121,
            timeout=240, alive=lambda: worker.running,
        )
        out, dead = got[topics["output"]], got[topics["dead_letter"]]
    finally:
        assert worker.stop() == 0
    assert sorted(r.key for r in out) == sorted(k for k, _ in records[:-1])
    assert [r.key for r in dead] == [b"c-bad"]
    # Strong identifiers must never pass in clear through the real detector.
    strong = [
        s for c in corpus for s in c.sensitive
        if "@" in s or sum(ch.isdigit() for ch in s) >= 9
    ]
    blob = b"\n".join(r.value for r in out)
    assert strong
    assert [s for s in strong if s.encode() in blob] == []
    protected = [json.loads(r.value) for r in out]
    assert all(p["email"].startswith("ssec:v2:") for p in protected if "email" in p)
