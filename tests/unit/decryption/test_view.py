from __future__ import annotations

import json

from streamsec.crypto.cipher import KeyringCipher
from streamsec.decryption.envelopes import key_ids_in
from streamsec.decryption.roles import RoleAccess
from streamsec.decryption.view import RoleDecryptor, decrypt_events
from streamsec.events.audit import Pseudonymizer, RecordRef
from streamsec.events.cloudevents import EventType
from streamsec.protection.protector import Protector
from streamsec.records.paths import iter_leaves
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

TOPOLOGY = parse_topology("""
name: crm
input: raw.crm
output: protected.crm
subject: id
encryption: {missing_subject: shared}
fields:
  id: keep
  email: {action: encrypt, deterministic: true, entity: EMAIL_ADDRESS}
  card: {action: encrypt, entity: CREDIT_CARD}
  age: {action: encrypt, entity: AGE}
key_separation: category
roles:
  support: {categories: [PII]}
  billing: {paths: [card]}
  none: {}
""")

RAW = {"id": "c1", "email": "ann@example.com", "card": "4111 1111 1111 1111", "age": 42,
       "bio": "reach me at +1 555-123-4567 please", "tier": "gold"}


def _setup() -> tuple[InMemoryKeyProvider, KeyringCipher, dict[str, object], str]:
    provider = InMemoryKeyProvider()
    cipher = KeyringCipher(provider, "crm", separate_by_category=True)
    protector = Protector(TOPOLOGY, detector=FakeDetector(), cipher=cipher)
    record = protector.protect(RAW).record
    key, _ = protector.protect_key("ann@example.com")
    return provider, cipher, record, key


def _view(role: str):  # type: ignore[no-untyped-def]
    _provider, cipher, record, key = _setup()
    decryptor = RoleDecryptor(cipher, RoleAccess(TOPOLOGY, role))
    return decryptor.view(record, key=key), record, key


def test_role_reads_only_what_it_is_granted() -> None:
    view, record, _key = _view("support")
    assert view.record["email"] == "ann@example.com"
    assert view.record["age"] == 42  # JSON type restored
    assert view.record["card"] == record["card"]  # PCI: stays ciphertext
    # detected fields open by the KEK of their own keys (PII), whatever else the record holds
    assert view.record["bio"] == RAW["bio"]
    assert view.key == "ann@example.com"
    assert sorted(view.denied) == ["card"]
    assert sorted(r.path for r in view.reads) == ["$key", "age", "bio", "email"]
    assert {r.basis for r in view.reads if r.path in ("bio", "$key")} == {"key"}


def test_billing_reads_the_card_by_path() -> None:
    view, record, _ = _view("billing")
    assert view.record["card"] == "4111 1111 1111 1111"
    assert view.record["email"] == record["email"]
    assert [(r.path, r.basis) for r in view.reads] == [("card", "path")]


def test_a_role_granted_everything_in_the_record_reads_detected_fields_and_key() -> None:
    topology = TOPOLOGY.model_copy(update={"roles": {
        "all": TOPOLOGY.roles["support"].model_copy(update={"categories": ["PII", "PCI"]})}})
    _provider, cipher, record, key = _setup()
    view = RoleDecryptor(cipher, RoleAccess(topology, "all")).view(record, key=key)
    assert view.record == RAW
    assert view.key == "ann@example.com"
    assert view.denied == ()


def test_no_role_rights_leaves_the_record_as_it_is() -> None:
    view, record, key = _view("none")
    assert view.record == record
    assert view.key == key
    assert view.reads == ()


def test_forgotten_subject_stays_encrypted_and_is_reported() -> None:
    provider, cipher, record, _key = _setup()
    provider.destroy_subject("crm", "c1")
    view = RoleDecryptor(cipher, RoleAccess(TOPOLOGY, "support")).view(record)
    assert view.record == record
    assert view.reads == ()
    assert sorted(view.failed) == [
        ("age", "key_destroyed"), ("bio", "key_destroyed"), ("email", "key_destroyed")
    ]


def test_decrypt_events_carry_no_values() -> None:
    view, record, _ = _view("support")
    ref = RecordRef.of("protected.crm", 0, 5, b"ann@example.com", Pseudonymizer(bytes(32)))
    events = decrypt_events(view, role="support", actor="c@h", topology="crm", record=ref)
    assert [e["data"]["path"] for e in events] == ["email", "age", "bio", "$key"]
    assert {e["type"] for e in events} == {EventType.FIELD_DECRYPTED}
    assert events[0]["data"]["key_id"] in key_ids_in(record)
    assert events[0]["data"]["role"] == "support"
    assert events[0]["data"]["record"]["offset"] == 5
    text = json.dumps(events)
    for value in ("ann@example.com", "4111 1111", "555-123-4567"):
        assert value not in text
    leaves = [v for _, v in iter_leaves(events)]
    assert 42 not in leaves
    assert "c1" not in leaves
