"""Record keys go through the topology's plan, and a tombstone keeps its record's key."""

from __future__ import annotations

import json

import pytest

from streamsec.crypto.keys import KeyPurpose
from streamsec.decryption.decryptor import Decryptor
from streamsec.errors import KeyDestroyedError
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

BASE = "name: keys\ninput: raw.k\noutput: prot.k\n"
MAIL = b"ann@example.com"


def build(extra: str, provider: InMemoryKeyProvider | None = None) -> RecordPipeline:
    return make_pipeline(
        parse_topology(BASE + extra), Settings(), worker_id="unit",
        provider=provider or InMemoryKeyProvider(), detector=FakeDetector(),
    )


def record_and_tombstone(pipeline: RecordPipeline, key: bytes) -> tuple[bytes, bytes]:
    value = json.dumps({"customer_id": key.decode(), "note": "hello"}).encode()
    first, tomb = pipeline.process([
        SourceRecord("raw.k", 0, 0, key, value), SourceRecord("raw.k", 0, 1, key, None),
    ])
    out, dead = first.messages[0], tomb.messages[0]
    assert out.topic == dead.topic == "prot.k" and dead.value is None
    assert out.key is not None and dead.key is not None
    return out.key, dead.key


def test_a_topology_that_hashes_email_addresses_hashes_an_email_record_key() -> None:
    pipeline = build("policy:\n  entities:\n    EMAIL_ADDRESS: hash\n")
    key, tomb = record_and_tombstone(pipeline, MAIL)
    assert key.startswith(b"hmac:") and MAIL not in key
    assert tomb == key


@pytest.mark.parametrize("action", ["mask", "redact", "drop"])
def test_actions_that_would_merge_keys_become_a_hash(action: str) -> None:
    pipeline = build(f"policy:\n  entities:\n    EMAIL_ADDRESS: {action}\n")
    key, _ = record_and_tombstone(pipeline, MAIL)
    other, _ = record_and_tombstone(pipeline, b"bob@example.com")
    assert key.startswith(b"hmac:") and key != other


def test_keep_keeps_the_key() -> None:
    pipeline = build("policy:\n  entities:\n    EMAIL_ADDRESS: keep\n")
    assert record_and_tombstone(pipeline, MAIL) == (MAIL, MAIL)


def test_with_a_subject_the_tombstone_keeps_the_compaction_key_and_erasure_covers_it() -> None:
    provider = InMemoryKeyProvider()
    pipeline = build("subject: customer_id\nencryption: {missing_subject: shared}\n", provider)
    key, tomb = record_and_tombstone(pipeline, MAIL)
    assert key.startswith(b"ssec:v2:") and MAIL not in key
    assert tomb == key  # compaction deletes the record
    decryptor = Decryptor(pipeline.topology, cipher=pipeline.protector.cipher)
    assert decryptor.decrypt_key(key.decode()) == MAIL.decode()
    info = provider.key_by_id(pipeline.protector.cipher.key_id_of(key.decode())).info
    assert info.purpose is KeyPurpose.DETERMINISTIC and info.subject is not None
    provider.destroy_subject("keys", MAIL.decode())  # forgetting the subject shreds the key
    with pytest.raises(KeyDestroyedError):
        decryptor.decrypt_key(key.decode())


def test_a_batch_detects_its_keys_in_one_call_and_each_distinct_key_once() -> None:
    detector = FakeDetector()
    pipeline = make_pipeline(
        parse_topology(BASE), Settings(), worker_id="unit", provider=InMemoryKeyProvider(),
        detector=detector,
    )
    value = json.dumps({"note": "hello"}).encode()
    keys = [b"a@example.com", b"b@example.com", b"a@example.com", None]
    outcomes = pipeline.process(
        [SourceRecord("raw.k", 0, i, k, value) for i, k in enumerate(keys)]
    )
    assert [o.reason for o in outcomes] == [None] * 4
    key_items = [p for p in detector.paths if p == "$key"]
    assert len(key_items) == 2  # two distinct keys, detected together
    out = [o.messages[0].key for o in outcomes]
    assert out[0] == out[2] != out[1] and out[3] is None


def test_a_bad_key_fails_its_own_record_only() -> None:
    pipeline = build("")
    value = json.dumps({"note": "hello"}).encode()
    outcomes = pipeline.process([
        SourceRecord("raw.k", 0, 0, b"\xff\xfe", None),  # a tombstone whose key is not UTF-8
        SourceRecord("raw.k", 0, 1, MAIL, value),
        SourceRecord("raw.k", 0, 2, MAIL, None),
    ])
    assert [o.reason for o in outcomes] == ["decode", None, None]
    assert outcomes[1].messages[0].key == outcomes[2].messages[0].key
