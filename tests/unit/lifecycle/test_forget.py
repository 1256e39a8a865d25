"""Crypto-shredding one subject, and the proof that it is forgotten."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from streamsec.crypto.keys import KeyState
from streamsec.errors import ConfigError
from streamsec.events.cloudevents import EventType, cloudevent_problems
from streamsec.events.signing import AuditIdentity
from streamsec.events.sinks import FileAuditSink
from streamsec.events.trust import TrustStore
from streamsec.events.verify import verify
from streamsec.lifecycle.forget import forget_subject
from streamsec.lifecycle.proof import ForgetProver
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology
from streamsec.topology.model import Topology
from tests.unit.lifecycle.conftest import Env, MakeEnv, customer

IDENTITY = AuditIdentity.ephemeral()
TRUST = TrustStore.of_signers(IDENTITY.signer.public_key())
SUBJECT = "C-0003"
N = 12


def _prove(env: Env, records: list[dict[str, object]], subject: str = SUBJECT) -> ForgetProver:
    prover = ForgetProver(env.topology, env.provider, subject)
    for record in records:
        prover.check(record)
    return prover


@pytest.mark.parametrize("rule", ["keep", "hash", "{action: encrypt, deterministic: true}",
                                  "encrypt", "redact"])
def test_shredded_subject_reads_nothing_others_everything(make_env: MakeEnv, rule: str) -> None:
    env = make_env(rule)
    records = env.protect([customer(i) for i in range(N)])

    before = _prove(env, records).report
    assert before.subject.records == 1
    assert before.subject.decrypted == before.subject.values > 0
    assert not before.holds

    erasure = forget_subject(
        env.provider, env.topology, SUBJECT, actor="test", identity=IDENTITY
    )
    assert erasure.keys
    assert all(k.state is KeyState.DESTROYED for k in erasure.keys)

    report = _prove(env, records).report
    per_record = 5 if "encrypt" in rule else 4  # email, name, 2 entities in the note (+ id)
    assert report.subject.records == 1
    assert report.subject.values == per_record
    assert report.subject.decrypted == 0
    assert report.others.records == N - 1
    assert report.others.values == per_record * (N - 1)
    assert report.others.decrypted == report.others.values
    assert report.holds
    assert "PASS" in report.render()
    # the same through the ordinary decryptor: every other record restores exactly
    for i, record in enumerate(records):
        if i != 3:
            restored = env.decryptor.decrypt(record)
            assert restored["email"] == f"user{i}@example.com"
            assert restored["note"] == customer(i)["note"]


def test_a_subject_found_only_by_its_key_ids(make_env: MakeEnv) -> None:
    env = make_env("redact")  # the id field is gone: only the key ids tell
    records = env.protect([customer(i) for i in range(4)])
    forget_subject(
        env.provider, env.topology, SUBJECT, actor="test", identity=IDENTITY
    )
    report = _prove(env, records).report
    assert report.subject.records == 1
    assert report.holds


def test_earlier_erasures_are_counted_apart(make_env: MakeEnv) -> None:
    env = make_env()
    records = env.protect([customer(i) for i in range(6)])
    forget_subject(
        env.provider, env.topology, "C-0001", actor="test", identity=IDENTITY
    )
    forget_subject(
        env.provider, env.topology, SUBJECT, actor="test", identity=IDENTITY
    )
    report = _prove(env, records).report
    assert report.excluded == 4
    assert report.others.records == 5
    assert report.others.decrypted == report.others.values == 16
    assert report.holds


def test_other_data_lost_fails_the_proof(make_env: MakeEnv) -> None:
    env = make_env()
    records = env.protect([customer(i) for i in range(5)])
    forget_subject(
        env.provider, env.topology, SUBJECT, actor="test", identity=IDENTITY
    )
    other_key = next(k for k in env.provider.list_keys("crm") if k.subject is not None
                     and k.state is KeyState.ACTIVE)
    env.provider.destroy(other_key.id)  # someone destroyed a key by mistake
    report = _prove(env, records).report
    assert not report.holds
    assert report.unreadable["key_destroyed"] > 0


def test_kept_subject_id_is_reported(make_env: MakeEnv) -> None:
    env = make_env("keep")
    records = env.protect([customer(i) for i in range(4)])
    forget_subject(
        env.provider, env.topology, SUBJECT, actor="test", identity=IDENTITY
    )
    assert _prove(env, records).report.subject_id_in_clear == 1
    env = make_env("encrypt")
    records = env.protect([customer(i) for i in range(4, 8)])
    forget_subject(
        env.provider, env.topology, "C-0005", actor="test", identity=IDENTITY
    )
    assert _prove(env, records, "C-0005").report.subject_id_in_clear == 0


def test_erasure_event_names_a_pseudonym_and_verifies(make_env: MakeEnv, tmp_path: Path) -> None:
    env = make_env()
    env.protect([customer(3)])
    erasure = forget_subject(
        env.provider, env.topology, SUBJECT, actor="ops@host", identity=IDENTITY
    )
    event, checkpoint, digest = erasure.events
    assert event["type"] == EventType.SUBJECT_ERASED
    assert checkpoint["type"] == EventType.AUDIT_CHECKPOINT
    assert checkpoint["data"]["final"]
    assert digest["type"] == EventType.AUDIT_DIGEST
    assert digest["data"]["chains"] == {
        checkpoint["chain"]: {"last_seq": 1, "last_digest": checkpoint["digest"], "final": True}
    }
    assert cloudevent_problems(event) == []
    assert event["data"]["subject_hmac"] == erasure.subject_hmac
    assert sorted(event["data"]["key_ids"]) == erasure.key_ids
    assert SUBJECT not in json.dumps(erasure.events)
    assert verify(erasure.events, TRUST).ok
    # the pseudonym is keyed under the audit pseudonym key, not any key of the keyring
    assert erasure.subject_hmac == IDENTITY.pseudonyms.subject(SUBJECT)
    sink = FileAuditSink(tmp_path / "audit.jsonl")
    asyncio.run(sink.send(erasure.events))
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [e["id"] for e in erasure.events]


def test_forget_needs_a_subject_path() -> None:
    topology: Topology = parse_topology("name: x\ninput: a\noutput: b\n")
    with pytest.raises(ConfigError):
        forget_subject(
        InMemoryKeyProvider(), topology, SUBJECT, actor="test", identity=IDENTITY
    )
    with pytest.raises(ConfigError):
        ForgetProver(topology, InMemoryKeyProvider(), SUBJECT)
