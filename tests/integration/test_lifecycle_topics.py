"""Re-keying a topic, crypto-shredding proven on a topic, and consumers by role, on the
real broker. The records are protected in-process (FakeDetector) with the worker's headers."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from streamsec.cli.main import main
from streamsec.consumer.client import ProtectedConsumer
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keyfile import FileStore
from streamsec.crypto.keyring import Keyring
from streamsec.crypto.keyring_setup import create_keyring
from streamsec.crypto.keys import KeyPurpose, KeyState
from streamsec.decryption.decryptor import Decryptor
from streamsec.decryption.envelopes import key_ids_in
from streamsec.events.cloudevents import EventType
from streamsec.events.signing import AuditIdentity
from streamsec.events.trust import TrustStore
from streamsec.events.verify import verify
from streamsec.kafka import KafkaConnection
from streamsec.lifecycle.rekey import Rekeyer
from streamsec.lifecycle.rekey_io import rekey_topic
from streamsec.pipeline.headers import KEY_IDS, protected_headers
from streamsec.pipeline.model import SourceRecord
from streamsec.protection.protector import Protector
from streamsec.testing import FakeDetector
from streamsec.topology.loader import load_topology
from streamsec.topology.model import Topology

pytestmark = pytest.mark.integration

N = 12
RULES = """subject: customer_id
encryption: {missing_subject: shared}
fields:
  customer_id: {action: encrypt, deterministic: true}
  email: {action: encrypt, deterministic: true, entity: EMAIL_ADDRESS}
  name: {action: encrypt, entity: PERSON}
  card: {action: encrypt, entity: CREDIT_CARD}
roles:
  support: {categories: [PII]}
  billing: {paths: [card]}
  auditor: {}
"""

IDENTITY = AuditIdentity.ephemeral()
"""The consumers' audit identity (signing and pseudonym keys, no data key)."""


def raw(i: int) -> dict[str, Any]:
    return {"customer_id": f"C-{i:03d}", "email": f"user{i}@example.com", "name": f"Name {i}",
            "card": "4111 1111 1111 1111", "note": f"call +1 555-123-{i:04d}", "n": i}


class Deployment:
    def __init__(self, tmp_path: Path, topics: dict[str, str], bootstrap: str) -> None:
        self.topics = topics
        self.bootstrap = bootstrap
        self.keyring = tmp_path / "keyring.json"
        create_keyring(self.keyring)
        self.ring = Keyring(FileStore(self.keyring), refresh_interval=0.0)
        self.path = tmp_path / "crm.yaml"
        self.path.write_text("name: crm\n" + "".join(
            f"{k}: {v}\n" for k, v in topics.items() if k != "copy") + RULES)
        self.topology: Topology = load_topology(self.path)
        self.cipher = KeyringCipher(self.ring, "crm")
        self.protector = Protector(self.topology, detector=FakeDetector(), cipher=self.cipher)

    def messages(self) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
        out = []
        for i in range(N):
            result = self.protector.protect(raw(i))
            key, key_action = self.protector.protect_key(f"user{i}@example.com")
            actions = (*result.actions, key_action) if key_action else result.actions
            source = SourceRecord(self.topology.input, 0, i, None, None)
            headers = list(protected_headers(self.topology, source, actions))
            out.append((key.encode(), json.dumps(result.record).encode(), headers))
        return out

    def cli(self, *args: str) -> int:
        return main([*args, "--keyring", str(self.keyring), "-t", str(self.path),
                     "--bootstrap", self.bootstrap])


@pytest.fixture
async def deployment(tmp_path: Path, kafka_bootstrap: str, topic_factory: Any,
                     kafka_produce: Any) -> Deployment:
    topics = {"input": await topic_factory(1), "output": await topic_factory(2),
              "audit": await topic_factory(1), "lineage": await topic_factory(1),
              "dead_letter": await topic_factory(1), "copy": await topic_factory(2)}
    dep = Deployment(tmp_path, topics, kafka_bootstrap)
    messages = dep.messages()
    for partition in (0, 1):
        await kafka_produce(topics["output"], messages[partition::2], partition=partition)
    return dep


async def test_rekey_a_topic_then_destroy_the_old_keys(
    deployment: Deployment, kafka_consume: Any
) -> None:
    dep = deployment
    for purpose in (KeyPurpose.ENCRYPT, KeyPurpose.DETERMINISTIC):
        dep.ring.rotate("crm", purpose)
        for i in range(N):
            dep.ring.rotate("crm", purpose, f"C-{i:03d}")
    code = await asyncio.to_thread(
        dep.cli, "rekey", "--from-topic", dep.topics["output"], "--to-topic", dep.topics["copy"]
    )
    assert code == 0
    retired = [k.id for k in dep.ring.list_keys("crm") if k.state is KeyState.RETIRED]
    for key_id in retired:
        dep.ring.destroy(key_id)
    copied = await kafka_consume(dep.topics["copy"], expected=N, timeout=30)
    assert len(copied) == N
    decryptor = Decryptor(dep.topology, cipher=KeyringCipher(dep.ring, "crm"))
    for message in copied:
        record = json.loads(message.value)
        i = record["n"]
        assert message.partition == i % 2  # partitions (and order) kept
        assert decryptor.decrypt(record) == raw(i)
        assert decryptor.decrypt_key(message.key.decode()) == f"user{i}@example.com"
        header = dict(message.headers)[KEY_IDS].decode().split(",")
        assert not set(header) & set(retired)
        assert key_ids_in(record) <= set(header)
    # the library function does the same, and a second pass finds nothing to do
    summary = await rekey_topic(Rekeyer(dep.topology, dep.ring), dep.topics["copy"],
                                dep.topics["input"], KafkaConnection(dep.bootstrap),
                                report=lambda where, exc: None)
    assert summary.records == N
    assert summary.rekeyed == 0
    assert summary.failed == 0


async def test_roles_see_what_they_may_and_every_decryption_is_audited(
    deployment: Deployment, kafka_consume: Any
) -> None:
    dep = deployment

    async def read(role: str | None, decrypt: bool = True) -> list[Any]:
        consumer = ProtectedConsumer(dep.topology, role, provider=dep.ring,
                                     bootstrap=dep.bootstrap, decrypt=decrypt, identity=IDENTITY,
                                     from_beginning=True, idle_timeout=2.0, actor="it@test")
        async with consumer:
            return [item async for item in consumer]

    stored = {r["n"]: r for r in (i.value for i in await read(None, decrypt=False))}
    assert len(stored) == N
    nothing = await read("auditor")
    assert all(item.value == stored[item.value["n"]] for item in nothing)  # all ciphertext
    assert all(item.decrypted == () for item in nothing)
    assert await kafka_consume(dep.topics["audit"], expected=0, timeout=2) == []

    support = await read("support")
    for item in support:
        i = item.value["n"]
        assert item.value["email"] == f"user{i}@example.com"
        assert item.value["name"] == f"Name {i}"
        assert item.value["card"] == stored[i]["card"]  # PCI: still encrypted
        assert sorted(item.decrypted) == ["email", "name"]
        assert "card" in item.denied
    events = [json.loads(m.value) for m in
              await kafka_consume(dep.topics["audit"], expected=3 * N + 2, timeout=30)]
    reads = [e for e in events if e["type"] == EventType.FIELD_DECRYPTED]
    assert len(reads) == 2 * N
    assert {e["data"]["path"] for e in reads} == {"email", "name"}
    assert {e["data"]["role"] for e in reads} == {"support"}
    assert {(e["data"]["record"]["partition"], e["data"]["record"]["offset"]) for e in reads} == {
        (item.partition, item.offset) for item in support}
    text = json.dumps(events)
    for i in range(N):
        assert f"user{i}@example.com" not in text
        assert f"Name {i}\"" not in text
    # two reads and one signed checkpoint per record, the final checkpoint, the digest
    assert len(events) == 3 * N + 2
    assert verify(events, TrustStore.of_signers(IDENTITY.signer.public_key())).ok


async def test_forget_and_prove_on_the_topic(
    deployment: Deployment, kafka_consume: Any, kafka_produce: Any
) -> None:
    dep = deployment
    plain_keys = [(f"r-{i}".encode(), value, headers)
                  for i, (_, value, headers) in enumerate(dep.messages())]
    await kafka_produce(dep.topics["copy"], plain_keys)

    def prove(topic: str) -> tuple[int, dict[str, Any]]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = dep.cli("keys", "prove-forgotten", "--subject", "C-005", "--topic", topic,
                           "--json")
        return code, json.loads(out.getvalue())

    code, report = await asyncio.to_thread(prove, dep.topics["copy"])
    assert code == 1  # still readable
    assert report["subject"]["decrypted"] == 5  # id, email, name, card, phone in the note
    assert await asyncio.to_thread(dep.cli, "keys", "forget", "--subject", "C-005", "--yes") == 0
    erased = [json.loads(m.value) for m in
              await kafka_consume(dep.topics["audit"], expected=3, timeout=30)]
    assert [e["type"] for e in erased[:3]] == [
        EventType.SUBJECT_ERASED, EventType.AUDIT_CHECKPOINT, EventType.AUDIT_DIGEST]
    # then the KEK rotation the erasure runs, audited as the CLI's key operation
    ops = {(e["data"]["operation"], e["data"]["outcome"]) for e in erased[3:]
           if e["type"] == EventType.KEY_OPERATION}  # fmt: skip
    assert {("rotate-kek", "requested"), ("rotate-kek", "ok")} <= ops, ops

    code, report = await asyncio.to_thread(prove, dep.topics["copy"])
    assert code == 0
    assert report["subject"] == {"records": 1, "encrypted_values": 5, "decrypted": 0}
    assert report["others"] == {"records": N - 1, "encrypted_values": 5 * (N - 1),
                                "decrypted": 5 * (N - 1)}
    # where the record key is the subject's email, it is encrypted under the topology's
    # key, not the subject's: it still decrypts, and the proof says so (docs/keys.md)
    code, report = await asyncio.to_thread(prove, dep.topics["output"])
    assert code == 1
    assert report["subject"]["decrypted"] == 1

    consumer = ProtectedConsumer(dep.topology, "support", provider=dep.ring, identity=IDENTITY,
                                 bootstrap=dep.bootstrap, from_beginning=True, idle_timeout=2.0)
    async with consumer:
        items = [item async for item in consumer]
    gone = [i for i in items if i.value["n"] == 5]
    assert len(gone) == 1
    assert sorted(gone[0].failed) == [("email", "key_destroyed"), ("name", "key_destroyed")]
    assert all(i.value["email"] == f"user{i.value['n']}@example.com" for i in items
               if i.value["n"] != 5)


async def test_consume_cli_prints_json_lines_and_audits_to_a_file(
    deployment: Deployment, tmp_path: Path
) -> None:
    dep = deployment
    audit = tmp_path / "decrypt-audit.jsonl"

    def consume(*extra: str) -> list[dict[str, Any]]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = dep.cli("consume", "--from-beginning", "--idle-timeout", "2", *extra)
        assert code == 0
        return [json.loads(line) for line in out.getvalue().splitlines()]

    stored = await asyncio.to_thread(consume, "--max", "5")
    assert len(stored) == 5
    assert all(r["email"].startswith("ssec:v2:") for r in stored)
    lines = await asyncio.to_thread(consume, "--role", "billing", "--decrypt", "--meta",
                                    "--audit-out", str(audit))
    assert len(lines) == N
    assert all(line["value"]["card"] == "4111 1111 1111 1111" for line in lines)
    assert all(line["value"]["email"].startswith("ssec:v2:") for line in lines)
    assert all(line["decrypted"] == ["card"] for line in lines)
    events = [json.loads(x) for x in audit.read_text().splitlines()]
    assert [e["type"] for e in events] == [
        EventType.FIELD_DECRYPTED, EventType.AUDIT_CHECKPOINT] * N + [
        EventType.AUDIT_CHECKPOINT, EventType.AUDIT_DIGEST]
    assert "4111 1111" not in audit.read_text()
