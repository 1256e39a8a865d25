"""The Must-show pipeline of issue 17, against real parts only.

Two ``streamsec worker`` processes with their own ``STREAMSEC_HOME`` and no shared
file (no keyring file at all), the Kafka key registry, a KEK held by SoftHSM2 (and
then OpenBao's Transit engine, and moto's KMS), a topology with ``subject:``.
10,000 records of 2,000 new subjects go through them: none is lost. A third party
that has only the registry and the KEK provider decrypts 100% of the values. After
``streamsec keys forget`` of 10 subjects, none of their values decrypts anywhere
and every other value still does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli.main import main
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyring_setup import init_keyring, open_keyring
from streamsec.errors import StreamsecError
from streamsec.protection.binding import RecordBinder
from streamsec.settings import Settings
from streamsec.topology.loader import load_topology
from streamsec.topology.model import Topology
from streamsec.worker.process import WorkerProcess, read_topics

N, SUBJECTS, FORGET = 10_000, 2_000, 10
FIELDS = ("name", "email")


def _records() -> list[tuple[bytes, bytes]]:
    return [
        (f"r-{i:05d}".encode(), json.dumps({
            "id": f"S-{i % SUBJECTS:04d}", "name": f"Person {i}", "email": f"p{i}@example.com",
            "tier": "gold",
        }).encode())
        for i in range(N)
    ]  # fmt: skip


def _provider_env(request: pytest.FixtureRequest, kind: str) -> dict[str, str]:
    if kind == "pkcs11":
        return dict(request.getfixturevalue("hsm").env)
    if kind == "vault":
        return dict(request.getfixturevalue("openbao").env)
    return dict(request.getfixturevalue("moto_kms").env)


def _opened(
    cipher: KeyringCipher, records: list[dict[str, Any]], topology: Topology
) -> tuple[int, int]:
    ok = 0
    binder = RecordBinder(topology)  # each value is bound to its record's subject
    for record in records:
        for field in FIELDS:
            try:
                cipher.decrypt(record[field], path=field,
                               binding=binder.of(record).at((field,)))  # fmt: skip
                ok += 1
            except StreamsecError:
                pass
    return ok, len(records) * len(FIELDS)


@pytest.mark.parametrize("kind", ["pkcs11", "vault", "aws-kms"])
async def test_two_workers_kafka_registry_provider_kek_and_forget(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, kafka_bootstrap: str,
    topic_factory: Any, group_factory: Callable[[], str], kafka_produce: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = await topic_factory(1, config={"cleanup.policy": "compact"})  # deleted after
    env = {**_provider_env(request, kind), "STREAMSEC_BROKER": kafka_bootstrap,
           "STREAMSEC_KEY_STORE": "kafka", "STREAMSEC_KEY_REGISTRY_TOPIC": registry,
           "STREAMSEC_METRICS_PORT": "0", "STREAMSEC_WEB_PORT": "0",
           "STREAMSEC_PROCESSING_GUARANTEE": "exactly_once"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STREAMSEC_HOME", str(tmp_path / "operator"))
    monkeypatch.setenv("STREAMSEC_KEYRING", str(tmp_path / "operator" / "keyring.json"))
    (tmp_path / "operator").mkdir()  # kek_due keeps its note beside STREAMSEC_KEYRING
    topics = {"input": await topic_factory(4), "output": await topic_factory(4),
              "audit": await topic_factory(1), "lineage": await topic_factory(1),
              "dead_letter": await topic_factory(1)}  # fmt: skip
    topology = tmp_path / "crm.yaml"
    topology.write_text(
        "name: crm\n" + "".join(f"{k}: {v}\n" for k, v in topics.items())
        + "subject: id\nencryption:\n  missing_subject: dead_letter\n"
        + "fields:\n  id: keep\n  name: encrypt\n"
        + "  email: {action: encrypt, entity: EMAIL_ADDRESS}\n  tier: keep\n"
    )
    topo = load_topology(topology)
    init_keyring(settings=Settings()).close()  # the registry's header, under the provider's KEK
    records = _records()
    await kafka_produce(topics["input"], records)
    group = group_factory()
    workers = [
        WorkerProcess(
            [topology], env={**env, "STREAMSEC_HOME": str(tmp_path / f"host-{i}")},
            log_file=tmp_path / f"worker-{i}.log",
            args=["--app-id", group, "--detector", "streamsec.testing:FakeDetector"],
        ).start()
        for i in range(2)
    ]
    started = time.monotonic()
    try:
        got = await read_topics(
            kafka_bootstrap, [topics["output"], topics["dead_letter"]], N, timeout=240,
            alive=lambda: all(w.running for w in workers), settle=2,
        )
    finally:
        codes = [w.stop() for w in workers]
    elapsed = time.monotonic() - started
    out = [json.loads(r.value) for r in got[topics["output"]]]
    assert got[topics["dead_letter"]] == []
    assert len({r.key for r in got[topics["output"]]}) == N  # 0 lost, none twice
    assert len(out) == N
    assert codes == [0, 0]
    assert not any((tmp_path / f"host-{i}" / "keyring.json").exists() for i in range(2))
    audit = (await read_topics(kafka_bootstrap, [topics["audit"]], SUBJECTS, timeout=60,
                               settle=3))[topics["audit"]]  # an event per batch, not per record
    events = [json.loads(a.value) for a in audit]
    by_worker = {e["data"]["worker"] for e in events if e["type"].endswith("records.batch")}
    assert len(by_worker) == 2, "both workers protected records"
    created = [e for e in events if e["type"] == "io.streamsec.key.operation"
               and e["data"]["operation"] == "create"]
    assert len(created) >= SUBJECTS  # every new key audited
    # a third party with only the registry and the KEK provider
    rings = [open_keyring(Settings())]  # closed at the end: the registry's reader thread
    consumer = KeyringCipher(rings[0], "crm")
    assert _opened(consumer, out, topo) == (N * 2, N * 2)
    forgotten = {f"S-{i:04d}" for i in range(FORGET)}
    for n, subject in enumerate(sorted(forgotten)):
        monkeypatch.setattr("sys.stdin", __import__("io").StringIO(subject + "\n"))
        args = ["keys", "forget", "-t", str(topology), "--subject", "-", "--yes",
                "--audit-out", str(tmp_path / "erasures.jsonl")]  # fmt: skip
        if n < FORGET - 1:  # the last erasure rotates the KEK for all ten (backup-proof)
            args += ["--rotate-kek-within", "3600"]
        assert await asyncio.to_thread(main, args) == 0
    theirs = [r for r in out if r["id"] in forgotten]
    others = [r for r in out if r["id"] not in forgotten]
    time.sleep(1.1)  # the consumer's keyring looks at the registry at most once a second
    rings.append(open_keyring(Settings()))
    fresh = KeyringCipher(rings[1], "crm")
    try:
        for cipher in (consumer, fresh):
            assert _opened(cipher, theirs, topo) == (0, len(theirs) * 2)
            assert _opened(cipher, others, topo) == (len(others) * 2, len(others) * 2)
    finally:
        for ring in rings:
            ring.close()
    print(f"{kind}: {N} records, {SUBJECTS} subjects, 2 workers in {elapsed:.1f} s; "
          f"{len(theirs)} records of {FORGET} forgotten subjects: 0 decrypt; "
          f"{len(others)} others: 100% decrypt")
