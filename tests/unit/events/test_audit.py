from __future__ import annotations

import hashlib
import hmac
import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streamsec.errors import ConfigError, DecodeError, KeyNotFoundError
from streamsec.events.audit import (
    RecordRef,
    field_decrypted,
    key_rotated,
    record_dead_lettered,
    record_protected,
    subject_erased,
)
from streamsec.events.cloudevents import cloudevent_problems
from streamsec.events.signing import Pseudonymizer
from streamsec.topology.model import Topology
from tests.unit.events.conftest import ACTIONS
from tests.unit.events.conftest import PSEUDONYM_KEY as AUDIT_KEY

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_record_protected_carries_coordinates_topology_and_field_metadata(
    topology: Topology,
) -> None:
    ref = RecordRef.of("raw.payments", 2, 41, b"cust-7", Pseudonymizer(AUDIT_KEY))
    event = record_protected(topology, ref, ACTIONS, worker_id="host-1", time=NOW, event_id="e1")
    assert cloudevent_problems(event) == []
    assert event["type"] == "io.streamsec.record.protected"
    assert event["subject"] == "raw.payments/2/41"
    assert event["source"] == "/streamsec/host-1"
    assert event["time"] == "2025-03-01T12:00:00.000Z"
    data = event["data"]
    assert data["record"] == {
        "topic": "raw.payments",
        "partition": 2,
        "offset": 41,
        "key_pseudonym": ref.key_pseudonym,
    }
    assert data["topology"] == {"name": "payments", "version": 1}
    assert data["policy"] == {"default_action": "encrypt"}
    assert data["worker"] == "host-1"
    assert data["key_ids"] == ["kdet0000001", "kenc0000001"]
    assert data["fields"][0] == {
        "path": "email",
        "action": "encrypt",
        "mode": "field",
        "entity_types": ["EMAIL_ADDRESS"],
        "category": "PII",
        "sensitivity": "confidential",
        "source": "rule",
        "score": 1.0,
        "key_id": "kdet0000001",
        "spans": 1,
    }
    assert [f["path"] for f in data["fields"]] == ["email", "card.number", "note"]


def test_record_key_appears_only_as_a_pseudonym_under_the_audit_pseudonym_key() -> None:
    pseudonyms = Pseudonymizer(AUDIT_KEY)
    digest = pseudonyms.record_key(b"cust-7")
    assert digest is not None
    assert len(digest) == 64
    assert "cust-7" not in digest
    assert pseudonyms.record_key(b"cust-7") == digest
    assert Pseudonymizer(b"x" * 32).record_key(b"cust-7") != digest
    assert pseudonyms.record_key(None) is None
    # separate sub-keys: the same bytes as record key and as subject id differ
    assert pseudonyms.subject("cust-7") != digest


def test_record_key_pseudonym_is_hmac_sha256_under_the_record_sub_key() -> None:
    """The documented derivation, recomputed here (the writer keys its HMAC once and
    hashes each key on a copy: consecutive keys must not leak into each other)."""
    sub = hmac.new(AUDIT_KEY, b"streamsec/audit/record-key/v2", hashlib.sha256).digest()
    pseudonyms = Pseudonymizer(AUDIT_KEY)
    for key in (b"cust-7", b"", b"\xff\x00", b"cust-7", "ünï".encode(), b"k" * 5000):
        assert pseudonyms.record_key(key) == hmac.new(sub, key, hashlib.sha256).hexdigest()


def test_pseudonymizer_hides_its_key() -> None:
    pseudonyms = Pseudonymizer(AUDIT_KEY)
    assert AUDIT_KEY.hex() not in repr(pseudonyms)
    with pytest.raises(TypeError):
        pickle.dumps(pseudonyms)
    with pytest.raises(ValueError, match="32 bytes"):
        Pseudonymizer(b"short")


def test_dead_letter_has_reason_code_but_never_the_message(topology: Topology) -> None:
    secret = "4111 1111 1111 1111"
    error = DecodeError(f"cannot parse {secret}", path="card.number", offset=9)
    event = record_dead_lettered(topology, RecordRef("raw.payments", 0, 9), error, worker_id="w")
    assert cloudevent_problems(event) == []
    data = event["data"]
    assert data["reason"] == "decode"
    assert data["error_type"] == "DecodeError"
    assert data["dead_letter"] == "raw.payments.dead-letter"
    assert data["path"] == "card.number"
    assert secret not in str(event)
    assert "cannot parse" not in str(event)


def test_dead_letter_reason_codes_are_sanitized(topology: Topology) -> None:
    class Odd(KeyNotFoundError):
        reason = "Has Spaces and a value 4111"

    event = record_dead_lettered(topology, RecordRef("t", 0, 1), Odd("x"), worker_id="w")
    assert event["data"]["reason"] == "error"
    assert "4111" not in str(event)


def test_other_event_types_are_valid_cloudevents() -> None:
    events = [
        key_rotated(
            worker_id="cli",
            key_id="k2",
            purpose="encrypt",
            owner="payments",
            version=2,
            previous_key_id="k1",
        ),
        subject_erased(
            worker_id="cli",
            owner="payments",
            subject_hmac=Pseudonymizer(AUDIT_KEY).subject("jane"),
            key_ids=["k3", "k3"],
        ),
        field_decrypted(
            worker_id="cli",
            topology="payments",
            path="email",
            key_id="k1",
            role="support",
            record=RecordRef("safe.payments", 0, 3),
        ),
        field_decrypted(worker_id="cli", topology="payments", path="email", key_id="k1"),
    ]
    for event in events:
        assert cloudevent_problems(event) == [], event
    assert events[0]["data"]["key"]["previous_id"] == "k1"
    assert events[1]["data"]["key_ids"] == ["k3"]
    assert "jane" not in str(events[1])
    assert events[2]["subject"] == "safe.payments/0/3"
    assert events[3]["subject"] == "email"
    assert len({e["id"] for e in events}) == 4


def test_pseudonym_key_file_is_created_private_and_refused_when_readable(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "pseudonym.key"
    first = Pseudonymizer.open(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert Pseudonymizer.open(path).subject("jane") == first.subject("jane")  # same key
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        Pseudonymizer.open(path)


def test_a_data_key_holder_cannot_recompute_a_pseudonym() -> None:
    """Insider: every key of the data keyring, and the old derivation (HKDF of a
    keyring key) does not reproduce the pseudonym; only the pseudonym key does."""
    from streamsec.crypto.keys import KeyPurpose
    from streamsec.testing.keys import InMemoryKeyProvider

    provider = InMemoryKeyProvider()
    pseudonym = Pseudonymizer(AUDIT_KEY).subject("C-0004")
    for purpose in KeyPurpose:
        key = provider.current_key("payments", purpose).material
        assert Pseudonymizer((key * 2)[:32]).subject("C-0004") != pseudonym


def test_key_operation_events_are_metadata_only_and_signed_through_a_trail() -> None:
    from streamsec.events.audit import key_operation
    from streamsec.events.signing import AuditIdentity
    from streamsec.events.trail import AuditTrail
    from streamsec.events.trust import TrustStore
    from streamsec.events.verify import verify

    event = key_operation(worker_id="keys@h", operation="unwrap", key_id="k1",
                          provider="pkcs11", purpose="encrypt", owner="crm", kek_id="kek-3")
    assert cloudevent_problems(event) == []
    assert event["data"]["key"] == {"id": "k1", "purpose": "encrypt", "owner": "crm",
                                    "kek_id": "kek-3"}
    with pytest.raises(ValueError, match="short code"):
        key_operation(worker_id="w", operation="Unwrap key 4111", key_id="k", provider="p")
    identity = AuditIdentity.ephemeral()
    trail = AuditTrail(identity, actor="keys@h", topology="keys")
    events = [*trail.sign([event]), *trail.close()]
    assert verify(events, TrustStore.of_signers(identity.signer.public_key())).ok
