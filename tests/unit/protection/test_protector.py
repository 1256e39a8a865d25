from __future__ import annotations

import json

import pytest

from streamsec.errors import DecryptionError, DetectionError, KeyAccessError
from streamsec.protection.result import ProtectionFailure, ProtectionResult
from streamsec.testing import FakeDetector
from tests.unit.protection.conftest import Build

SSN, EMAIL, CARD = "123-45-6789", "jane.roe@example.com", "4111 1111 1111 1111"


def ok(result: ProtectionResult | ProtectionFailure) -> ProtectionResult:
    assert isinstance(result, ProtectionResult), result
    return result


def test_minimal_topology_protects_detected_values_and_keeps_the_rest(build: Build) -> None:
    protector, decryptor = build()
    record = {"id": "C-1", "k1": SSN, "v": 3, "meta": {"x": EMAIL, "y": "on"},
              "note": f"call Jane Roe on +1 415-555-0134 about {CARD}"}
    result = protector.protect(record)
    text = json.dumps(result.record)
    for secret in (SSN, EMAIL, CARD, "Jane Roe", "415-555-0134"):
        assert secret not in text
    assert result.record["id"] == "C-1" and result.record["v"] == 3
    assert result.record["meta"]["y"] == "on"
    assert result.record["note"].startswith("call ssec:v2:")
    assert " on ssec:v2:" in result.record["note"] and " about ssec:v2:" in result.record["note"]
    assert decryptor.decrypt(result.record) == record
    paths = {(a.path, a.mode) for a in result.actions}
    assert paths == {("k1", "field"), ("meta.x", "field"), ("note", "inline")}


def test_field_rules_keep_deterministic_encrypt_and_mask(build: Build) -> None:
    protector, decryptor = build(
        "fields:\n"
        "  customer_id: {action: keep}\n"
        "  email: {action: encrypt, deterministic: true}\n"
        "  card.number: {action: mask, keep_last: 4}\n"
    )
    a = protector.protect({"customer_id": SSN, "email": EMAIL, "card": {"number": CARD}}).record
    b = protector.protect({"customer_id": "x", "email": EMAIL, "card": {"number": CARD}}).record
    assert a["customer_id"] == SSN  # keep means keep, even when detection would disagree
    assert a["email"] == b["email"] and a["email"].startswith("ssec:v2:")
    assert a["card"]["number"] == "***************1111"
    assert decryptor.decrypt(a)["email"] == EMAIL


@pytest.mark.parametrize(
    "value", [42, 3.0, -0.5, True, False, None, {"a": [1, "x", {"b": None}]}, [], "é ✓"]
)
def test_encrypt_rule_restores_every_json_type(build: Build, value: object) -> None:
    protector, decryptor = build("fields:\n  secret: encrypt\n")
    protected = protector.protect({"secret": value}).record
    assert isinstance(protected["secret"], str) and protected["secret"].startswith("ssec:v2:")
    restored = decryptor.decrypt(protected)["secret"]
    assert restored == value and type(restored) is type(value)


def test_rule_on_an_object_encrypts_the_subtree_as_one_value(build: Build) -> None:
    protector, decryptor = build("fields:\n  address: encrypt\n")
    record = {"address": {"street": "12 Main Street", "zip": 62704, "geo": [1.5, 2.5]}}
    protected = protector.protect(record).record
    assert isinstance(protected["address"], str)
    assert decryptor.decrypt(protected) == record


def test_more_specific_rule_wins_inside_an_object(build: Build) -> None:
    protector, _ = build("fields:\n  address: keep\n  address.street: {action: redact}\n")
    protected = protector.protect({"address": {"street": "12 Main Street", "city": "Springfield"}})
    assert protected.record == {"address": {"street": "<REDACTED>", "city": "Springfield"}}


def test_list_items_share_one_path_rule(build: Build) -> None:
    protector, _ = build("fields:\n  items[*].card: {action: mask, keep_last: 4}\n")
    protected = protector.protect({"items": [{"card": CARD}, {"card": "5500 0000 0000 0004"}]})
    assert [i["card"] for i in protected.record["items"]] == ["*" * 15 + "1111", "*" * 15 + "0004"]
    assert {a.path for a in protected.actions} == {"items[*].card"}


def test_drop_removes_fields_and_nulls_list_items(build: Build) -> None:
    protector, _ = build("fields:\n  secret: drop\n  tags[*]: drop\n")
    protected = protector.protect({"secret": SSN, "tags": ["a", "b"], "id": 1}).record
    assert protected == {"tags": [None, None], "id": 1}


def test_inline_rule_redacts_entities_in_place(build: Build) -> None:
    protector, _ = build("fields:\n  body: {action: redact, inline: true}\n")
    protected = protector.protect({"body": f"call me at +1 415-555-0134 or {EMAIL}"}).record
    assert protected["body"] == "call me at <PHONE_NUMBER> or <EMAIL_ADDRESS>"


def test_policy_by_category_and_entity(build: Build) -> None:
    protector, _ = build(
        "policy:\n  default_action: redact\n  categories: {PCI: {action: mask, keep_last: 4}}\n"
        "  entities: {EMAIL_ADDRESS: hash}\n"
    )
    result = protector.protect({"a": CARD, "b": EMAIL, "c": SSN})
    assert result.record["a"].endswith("1111") and result.record["a"].startswith("*")
    assert result.record["b"].startswith("hmac:")
    assert result.record["c"] == "<US_SSN>"
    by_path = {a.path: a for a in result.actions}
    assert by_path["a"].category == "PCI" and by_path["a"].sensitivity == "restricted"
    assert by_path["b"].action == "hash" and by_path["b"].key_id


def test_min_sensitivity_leaves_lower_levels(build: Build) -> None:
    protector, _ = build("policy:\n  min_sensitivity: confidential\n")
    record = {"when": "2024-01-02", "who": "Jane Roe", "note": "seen 2024-01-02 in Springfield"}
    result = protector.protect(record)
    assert result.record["when"] == "2024-01-02"
    assert result.record["note"] == record["note"]
    assert result.record["who"].startswith("ssec:v2:")


def test_ignore_paths_are_never_scanned(build: Build) -> None:
    detector = FakeDetector()
    protector, _ = build("detection:\n  ignore_paths: [trace]\n", detector=detector)
    assert protector.protect({"trace": {"email": EMAIL}}).record == {"trace": {"email": EMAIL}}
    assert "trace.email" not in detector.paths
    assert detector.paths  # object keys are still checked


def test_one_failing_record_does_not_fail_the_batch(build: Build) -> None:
    protector, _ = build(detector=FakeDetector(fail_on="BOOM"))
    results = protector.protect_many([{"a": EMAIL}, {"a": "BOOM"}, {"a": SSN}])
    assert isinstance(results[1], ProtectionFailure)
    assert isinstance(results[1].error, DetectionError) and results[1].reason == "detection"
    assert ok(results[0]).record["a"].startswith("ssec:")
    assert ok(results[2]).record["a"].startswith("ssec:")


class _BrokenCipher:
    topology = "t"

    def encrypt(self, plaintext: bytes, **kw: object) -> str:
        raise KeyAccessError("keyring unavailable", key_id="k1")

    def decrypt(self, token: str, **kw: object) -> bytes:
        raise AssertionError

    def pseudonymize(self, data: bytes, **kw: object) -> tuple[str, str]:
        raise KeyAccessError("keyring unavailable")

    def prepare_keys(self, needs: object) -> None:
        raise KeyAccessError("keyring unavailable")

    def check_subject(self, subject: str) -> None:
        raise KeyAccessError("keyring unavailable")

    def key_id_of(self, token: str) -> str:
        raise AssertionError


def test_key_failure_fails_closed_without_partial_output(build: Build) -> None:
    protector, _ = build(
        "subject: id\nencryption: {missing_subject: shared}\nfields:\n  m: {action: mask}\n"
    )
    protector.cipher = _BrokenCipher()  # its batch key preparation fails too
    (result,) = protector.protect_many([{"id": "s1", "m": SSN, "e": EMAIL}])
    assert isinstance(result, ProtectionFailure) and result.reason == "key_access"
    assert SSN not in str(result.error) and EMAIL not in str(result.error)


def test_ciphertext_moved_to_another_field_or_topology_fails(build: Build) -> None:
    protector, decryptor = build("fields:\n  a: encrypt\n  b: encrypt\n")
    protected = protector.protect({"a": SSN, "b": "x"}).record
    with pytest.raises(DecryptionError) as info:
        decryptor.decrypt({"a": protected["a"], "b": protected["a"]})
    assert info.value.path == "b"
    _, other = build("fields:\n  a: encrypt\n", name="other")
    with pytest.raises(DecryptionError):
        other.decrypt({"a": protected["a"]})


def test_tampered_ciphertext_fails(build: Build) -> None:
    protector, decryptor = build("fields:\n  a: encrypt\n")
    token = protector.protect({"a": SSN}).record["a"]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(DecryptionError):
        decryptor.decrypt({"a": flipped})


def test_results_never_hold_values(build: Build) -> None:
    protector, _ = build()
    result = protector.protect({"k": SSN, "n": f"mail {EMAIL}"})
    audit_view = repr(result.actions) + repr(result.classification)
    assert SSN not in audit_view and EMAIL not in audit_view


def test_sensitive_record_key_is_encrypted_deterministically(build: Build) -> None:
    protector, decryptor = build()
    token, action = protector.protect_key(EMAIL)
    again, _ = protector.protect_key(EMAIL)
    assert token == again and EMAIL not in token and action is not None
    assert decryptor.decrypt_key(token) == EMAIL
    assert protector.protect_key("C-10023") == ("C-10023", None)


def test_explain_reports_plan_without_values(build: Build) -> None:
    protector, _ = build("fields:\n  id: keep\n")
    steps = protector.explain({"id": "1", "e": EMAIL}).plan.steps
    assert [(s.path, s.rule.action, s.source) for s in steps] == [
        ("id", "keep", "rule"), ("e", "encrypt", "policy")]


def test_personal_data_in_an_object_key_dead_letters_the_record(build: Build) -> None:
    protector, _ = build("fields:\n  contacts: keep\n")
    (bad, good) = protector.protect_many(
        [{"contacts": {EMAIL: {"opt_in": True}}}, {"contacts": {"primary": {"opt_in": True}}}]
    )
    assert isinstance(bad, ProtectionFailure) and bad.reason == "sensitive_key"
    assert EMAIL not in str(bad.error)
    assert ok(good).record == {"contacts": {"primary": {"opt_in": True}}}


class _CountingCipher:
    """Wraps a real cipher; records each batch key preparation."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.prepared: list[set[tuple[str, bool]]] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def prepare_keys(self, needs: object) -> None:
        self.prepared.append(set(needs))  # type: ignore[call-overload]
        self.inner.prepare_keys(needs)  # type: ignore[attr-defined]


def test_a_batch_prepares_the_keys_of_all_its_subjects_at_once(build: Build) -> None:
    protector, decryptor = build(
        "subject: id\nencryption: {missing_subject: shared}\nfields:\n  id: keep\n"
        "  e: {action: encrypt, deterministic: true}\n"
        "  m: {action: mask}\n  r: encrypt\n"
    )
    counting = _CountingCipher(protector.cipher)
    protector.cipher = counting  # type: ignore[assignment]
    records = [{"id": "s1", "e": "x", "r": "y"}, {"id": "s2", "m": "z"}, {"id": "s3", "e": "w"},
               {"e": "no subject"}]
    results = protector.protect_many(records)
    # every subject's encrypt key is prepared: it tells whether the subject was forgotten
    assert counting.prepared == [
        {("s1", True), ("s1", False), ("s2", False), ("s3", True), ("s3", False)}
    ]
    restored = [decryptor.decrypt(ok(r).record) for r in results]
    assert restored == [records[0], {"id": "s2", "m": "*"}, records[2], records[3]]
