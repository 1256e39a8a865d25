"""A new record of a forgotten data subject reaches no topic in clear, the dead-letter
topic included: it is dead-lettered without key or value, with an audit event."""

from __future__ import annotations

import json

import pytest

from streamsec.pipeline import headers as h
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

TOPOLOGY = """
name: crm
input: raw.crm
output: prot.crm
subject: customer_id
encryption: {missing_subject: dead_letter}
fields:
  customer_id: keep
  email: {action: encrypt, deterministic: true}
  tier: keep
"""
SECRETS = (b"C-7", b"ann@example.com", b"gold", b"BOOM")


@pytest.fixture
def provider() -> InMemoryKeyProvider:
    return InMemoryKeyProvider()


@pytest.fixture
def pipeline(provider: InMemoryKeyProvider) -> RecordPipeline:
    return make_pipeline(
        parse_topology(TOPOLOGY), Settings(), worker_id="unit", provider=provider,
        detector=FakeDetector(fail_on="BOOM"),
    )


def src(offset: int, record: dict[str, object], key: bytes | None = b"ann@example.com"):  # type: ignore[no-untyped-def]
    return SourceRecord("raw.crm", 0, offset, key, json.dumps(record).encode(), 1.0)


def _everything(outcomes: list) -> bytes:  # type: ignore[type-arg]
    return b"".join(
        (m.key or b"") + (m.value or b"") + b"".join(v for _, v in m.headers)
        for o in outcomes for m in o.messages
    )


@pytest.mark.parametrize(
    "record",
    [
        {"customer_id": "C-7", "email": "ann@example.com", "tier": "gold"},
        {"customer_id": "C-7", "tier": "gold"},  # nothing to encrypt: still the subject's
        {"customer_id": "C-7", "tier": "gold", "note": "BOOM"},  # fails detection first
    ],
)
def test_a_forgotten_subjects_new_record_reaches_no_topic_in_clear(
    pipeline: RecordPipeline, provider: InMemoryKeyProvider, record: dict[str, object]
) -> None:
    (before,) = pipeline.process([src(0, {"customer_id": "C-7", "email": "ann@example.com"})])
    assert before.reason is None
    provider.destroy_subject("crm", "C-7")
    outcomes = pipeline.process([src(1, record), src(2, {"customer_id": "C-8", "tier": "gold"})])
    assert [o.reason for o in outcomes] == ["subject_forgotten", None]
    forgotten = outcomes[0]
    dead = [m for m in forgotten.messages if m.topic == "raw.crm.dead-letter"]
    assert len(dead) == 1 and dead[0].key is None and dead[0].value == b""  # Kafka needs one
    assert dict(dead[0].headers)[h.REASON] == b"subject_forgotten"
    assert dict(dead[0].headers)[h.FORM] == b"withheld"
    audit = [json.loads(m.value or b"") for m in forgotten.messages if m.topic == "streamsec.audit"]
    assert audit == []  # the partition's batch event goes with its last outcome
    (event, _checkpoint) = [json.loads(m.value or b"") for m in outcomes[1].messages
                            if m.topic == "streamsec.audit"]
    assert event["type"] == "io.streamsec.records.batch"
    entry = event["data"]["records"][0]
    assert (entry["offset"], entry["outcome"], entry["reason"]) == (
        1, "dead_lettered", "subject_forgotten"
    )
    everything = _everything([forgotten]) + b"".join(
        m.value or b"" for m in outcomes[1].messages if m.topic == "streamsec.audit"
    )
    for secret in SECRETS:
        assert secret not in everything


def test_other_dead_letters_keep_their_bytes(pipeline: RecordPipeline) -> None:
    (outcome,) = pipeline.process([src(0, {"customer_id": "C-9", "note": "BOOM"})])
    assert outcome.reason == "detection"
    (dead,) = [m for m in outcome.messages if m.topic == "raw.crm.dead-letter"]
    assert dead.value is not None and b"C-9" in dead.value


def test_a_record_without_subject_is_dead_lettered(pipeline: RecordPipeline) -> None:
    (outcome,) = pipeline.process([src(0, {"email": "ann@example.com"})])
    assert outcome.reason == "no_subject"


def test_a_tombstone_keyed_by_a_forgotten_subject_is_withheld_too(
    pipeline: RecordPipeline, provider: InMemoryKeyProvider
) -> None:
    # the record key is sealed under the subject key of its own text (record_key.py)
    provider.destroy_subject("crm", "ann@example.com")
    (outcome,) = pipeline.process([SourceRecord("raw.crm", 0, 3, b"ann@example.com", None)])
    assert outcome.reason == "subject_forgotten"
    assert b"ann@example.com" not in _everything([outcome])
