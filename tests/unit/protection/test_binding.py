"""The review's swap attacks on protected records: each one fails to decrypt, or the
strict consumer reports it (``docs/envelope.md``, Associated data).

The attacker holds protected records (a topic, a backup) and can edit them, but not
the keys: moving ciphertexts around inside or between records must not let a
reader see one subject's value as another's.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from streamsec.consumer.client import ConsumedRecord, ProtectedConsumer
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.envelope import parse_envelope
from streamsec.decryption.decryptor import Decryptor
from streamsec.decryption.strict import StrictChecker
from streamsec.errors import DecryptionError, MissingSubjectError
from streamsec.events.signing import AuditIdentity
from streamsec.events.sinks import MemoryAuditSink
from streamsec.events.trail import AuditTrail
from streamsec.protection.protector import Protector
from streamsec.protection.result import ProtectionFailure, ProtectionResult
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology
from streamsec.topology.model import Topology

CLINIC = """
name: clinic
input: raw.clinic
output: protected.clinic
subject: patient_id
encryption: {{missing_subject: {missing}, record_id: visit_id{extra}}}
fields:
  patient_id: keep
  visit_id: keep
  ssn: {{action: encrypt, entity: US_SSN}}
  ssn_det: {{action: encrypt, deterministic: true, entity: US_SSN}}
  card: {{action: encrypt, entity: CREDIT_CARD}}
  diagnoses[*]: encrypt
  hiv: encrypt
roles:
  auditor: {{paths: [ssn, ssn_det, card, diagnoses, hiv]}}
"""


def _topology(missing: str = "shared", extra: str = "") -> Topology:
    return parse_topology(CLINIC.format(missing=missing, extra=extra))


def _visit(patient: str | None, visit: str, ssn: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "visit_id": visit, "ssn": ssn, "ssn_det": ssn, "card": "4111 1111 1111 1111",
        "diagnoses": ["B20", "J45", "E11"], "hiv": True,
    }
    if patient is not None:
        record["patient_id"] = patient
    return record


class Env:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.provider = InMemoryKeyProvider()
        self.cipher = KeyringCipher(self.provider, topology.name)
        self.protector = Protector(topology, detector=FakeDetector(), cipher=self.cipher)
        self.decryptor = Decryptor(topology, cipher=self.cipher)

    def protect(self, record: dict[str, Any]) -> dict[str, Any]:
        (result,) = self.protector.protect_many([record])
        assert isinstance(result, ProtectionResult), result
        return result.record


@pytest.fixture
def env() -> Env:
    return Env(_topology())


def test_untouched_records_decrypt(env: Env) -> None:
    for raw in (_visit("P-1", "V-1", "123-45-6789"), _visit(None, "V-9", "987-65-4321")):
        assert env.decryptor.decrypt(env.protect(raw)) == raw


@pytest.mark.parametrize("field", ["ssn", "ssn_det"])
def test_one_subjects_ssn_in_another_subjects_record_fails(env: Env, field: str) -> None:
    alice = env.protect(_visit("P-alice", "V-1", "111-11-1111"))
    bob = env.protect(_visit("P-bob", "V-2", "222-22-2222"))
    forged = dict(bob, **{field: alice[field]})
    with pytest.raises(DecryptionError, match="authentication") as info:
        env.decryptor.decrypt(forged)
    assert info.value.path == field
    assert "111-11-1111" not in str(info.value)


def test_one_subjects_ssn_with_its_subject_id_still_fails(env: Env) -> None:
    """Relabelling Bob's record as Alice's to carry her SSN breaks every other field."""
    alice = env.protect(_visit("P-alice", "V-1", "111-11-1111"))
    bob = env.protect(_visit("P-bob", "V-2", "222-22-2222"))
    forged = dict(bob, ssn=alice["ssn"], patient_id="P-alice")
    with pytest.raises(DecryptionError):
        env.decryptor.decrypt(forged)


def test_swapped_list_items_fail(env: Env) -> None:
    record = env.protect(_visit("P-1", "V-1", "123-45-6789"))
    items = record["diagnoses"]
    forged = dict(record, diagnoses=[items[1], items[0], items[2]])
    with pytest.raises(DecryptionError) as info:
        env.decryptor.decrypt(forged)
    assert info.value.path == "diagnoses[*]"


def test_swapped_list_items_are_allowed_when_order_does_not_matter() -> None:
    env = Env(_topology(extra=", lists: record"))
    record = env.protect(_visit("P-1", "V-1", "123-45-6789"))
    items = record["diagnoses"]
    forged = dict(record, diagnoses=[items[1], items[0], items[2]])
    assert env.decryptor.decrypt(forged)["diagnoses"] == ["J45", "B20", "E11"]
    other = env.protect(_visit("P-1", "V-2", "123-45-6789"))  # but not into another record
    with pytest.raises(DecryptionError):
        env.decryptor.decrypt(dict(other, diagnoses=[items[0], *other["diagnoses"][1:]]))


def test_a_card_moved_to_another_record_of_the_same_subject_fails(env: Env) -> None:
    first = env.protect(_visit("P-1", "V-1", "123-45-6789"))
    second = env.protect(dict(_visit("P-1", "V-2", "123-45-6789"), card="5500 0000 0000 0004"))
    with pytest.raises(DecryptionError) as info:
        env.decryptor.decrypt(dict(second, card=first["card"]))
    assert info.value.path == "card"


def test_a_card_moved_to_another_subjects_record_fails_without_record_id() -> None:
    topology = parse_topology(
        CLINIC.format(missing="shared", extra="").replace(", record_id: visit_id", "")
    )
    env = Env(topology)
    first = env.protect(_visit("P-1", "V-1", "123-45-6789"))
    second = env.protect(_visit("P-2", "V-2", "123-45-6789"))
    with pytest.raises(DecryptionError):
        env.decryptor.decrypt(dict(second, card=first["card"]))


def test_a_shared_key_ciphertext_in_a_subjects_record_fails(env: Env) -> None:
    shared = env.protect(_visit(None, "V-1", "999-99-9999"))  # no subject: shared keys
    assert env.provider.key_by_id(parse_envelope(shared["ssn"]).key_id).info.subject is None
    mine = env.protect(_visit("P-1", "V-1", "123-45-6789"))  # same visit id, even
    with pytest.raises(DecryptionError):
        env.decryptor.decrypt(dict(mine, ssn=shared["ssn"]))


def test_a_record_without_subject_is_dead_lettered_when_the_topology_says_so() -> None:
    env = Env(_topology(missing="dead_letter"))
    (result,) = env.protector.protect_many([_visit(None, "V-1", "123-45-6789")])
    assert isinstance(result, ProtectionFailure)
    assert isinstance(result.error, MissingSubjectError) and result.reason == "no_subject"
    assert "123-45-6789" not in str(result.error)


def test_the_choice_for_records_without_subject_is_explicit() -> None:
    from streamsec.errors import TopologyError

    with pytest.raises(TopologyError, match="missing_subject is required") as info:
        parse_topology("name: t\ninput: a\noutput: b\nsubject: id\n")
    assert info.value.key == "encryption"


def test_a_dropped_subject_field_fails_closed() -> None:
    topology = parse_topology(CLINIC.format(missing="shared", extra="").replace(
        "patient_id: keep", "patient_id: drop"))
    env = Env(topology)
    (result,) = env.protector.protect_many([_visit("P-1", "V-1", "123-45-6789")])
    assert isinstance(result, ProtectionFailure)
    assert "subject or record-id field" in str(result.error)


# -- what cannot fail to decrypt: the strict consumer reports it ---------------------------


def _consume(env: Env, record: dict[str, Any], *, strict: bool = True) -> ConsumedRecord:
    consumer = ProtectedConsumer(
        env.topology, "auditor", provider=env.provider, bootstrap="127.0.0.1:1",
        audit=MemoryAuditSink(), strict=strict,
    )

    # the consumer's own record handling, without a broker
    consumer._trail = AuditTrail(
        AuditIdentity.ephemeral(), actor="test", topology=env.topology.name
    )

    async def run() -> ConsumedRecord:
        message = SimpleNamespace(
            topic="protected.clinic", partition=0, offset=7, key=None, headers=(),
            value=json.dumps(record).encode(),
        )
        return await consumer._handle(message)

    return asyncio.run(run())


def test_strict_consumer_passes_an_untouched_record(env: Env) -> None:
    raw = _visit("P-1", "V-1", "123-45-6789")
    item = _consume(env, env.protect(raw))
    assert item.error is None and item.violations == ()
    assert item.value == raw


def test_a_ciphertext_replaced_by_plain_text_is_reported(env: Env) -> None:
    record = env.protect(_visit("P-1", "V-1", "123-45-6789"))
    forged = dict(record, ssn="555-55-5555", hiv=False)
    lax = _consume(env, forged, strict=False)
    assert lax.value is not None and lax.value["hiv"] is False  # what the review showed
    item = _consume(env, forged)
    assert item.value is None and item.error == "strict"
    assert set(item.violations) == {("ssn", "plaintext"), ("hiv", "plaintext")}


@pytest.mark.parametrize("prefix", ["ssec:v3:", "ssec:v2:KBADKEYID00:", "ssec:v9999:"])
def test_an_unknown_envelope_is_reported_not_passed_through(env: Env, prefix: str) -> None:
    record = env.protect(_visit("P-1", "V-1", "123-45-6789"))
    forged = dict(record, ssn=record["ssn"].replace("ssec:v2:", prefix, 1), note=f"x {prefix}AAA")
    item = _consume(env, forged)
    assert item.value is None
    assert ("ssn", "unknown_envelope") in item.violations
    assert ("note", "unknown_envelope") in item.violations


def test_strict_consumer_reports_every_swap_attack(env: Env) -> None:
    alice = env.protect(_visit("P-alice", "V-1", "111-11-1111"))
    bob = env.protect(_visit("P-bob", "V-2", "222-22-2222"))
    shared = env.protect(_visit(None, "V-3", "333-33-3333"))
    items = bob["diagnoses"]
    attacks = {
        "ssn": dict(bob, ssn=alice["ssn"]),
        "diagnoses[*]": dict(bob, diagnoses=[items[1], items[0], items[2]]),
        "card": dict(bob, card=alice["card"]),
        "ssn_det": dict(bob, ssn_det=shared["ssn_det"]),
    }
    for path, forged in attacks.items():
        item = _consume(env, forged)
        assert item.value is None, path
        assert (path, "decryption") in item.violations, path
        assert "111-11-1111" not in json.dumps(item.as_json(meta=True))


def test_a_forgotten_subjects_record_is_not_a_strict_violation(env: Env) -> None:
    record = env.protect(_visit("P-1", "V-1", "123-45-6789"))
    env.provider.destroy_subject("clinic", "P-1")
    item = _consume(env, record)
    assert item.error is None and item.violations == ()
    assert item.value is not None and item.value["ssn"] == record["ssn"]  # stays ciphertext
    assert {reason for _, reason in item.failed} == {"key_destroyed"}


def test_strict_checker_counts_legacy_envelopes() -> None:
    checker = StrictChecker(_topology())
    v1 = "ssec:v1:ktestvector:gcm:yv66vvrO263eyviI-cnBSM86KmMnZi2xHjPqUGBOlbvkmWFNKGXht7LE8L4n"
    report = checker.check({"patient_id": "P-1", "note": v1})
    assert report.ok and report.legacy == 1
