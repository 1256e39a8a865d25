from __future__ import annotations

import pytest

from streamsec.decryption.roles import RecordSummary, RoleAccess
from streamsec.errors import ConfigError
from streamsec.pipeline.headers import protected_headers
from streamsec.pipeline.model import SourceRecord
from streamsec.protection.result import FieldAction
from streamsec.topology import parse_topology

TOPOLOGY = parse_topology("""
name: shop
input: raw.shop
output: protected.shop
fields:
  email: {action: encrypt, entity: EMAIL_ADDRESS}
  card.number: {action: encrypt, entity: CREDIT_CARD}
  payout: {action: encrypt, entity: IBAN_CODE}
  notes: {action: encrypt, inline: true}
classification:
  EMAIL_ADDRESS: {category: FINANCIAL, sensitivity: restricted}
roles:
  by_path: {paths: ["orders[*].card", notes]}
  pci: {categories: [PCI]}
  pii: {categories: [PII]}
  emails: {entities: [EMAIL_ADDRESS]}
  nobody: {}
""")

PII_ONLY = RecordSummary(frozenset({"PII"}), frozenset({"PERSON", "PHONE_NUMBER"}))
MIXED = RecordSummary(frozenset({"PII", "PCI"}), frozenset({"PERSON", "CREDIT_CARD"}))


def allowed(role: str, path: str, summary: RecordSummary | None = None) -> bool:
    return RoleAccess(TOPOLOGY, role).decide(path, summary).allowed


def test_by_path_with_list_patterns_and_subtrees() -> None:
    assert allowed("by_path", "orders[*].card")
    assert allowed("by_path", "orders[*].card.number")
    assert allowed("by_path", "notes")
    assert not allowed("by_path", "orders[*].cardholder")
    assert not allowed("by_path", "orders.card")  # not a list item
    assert not allowed("by_path", "email", MIXED)
    assert RoleAccess(TOPOLOGY, "by_path").decide("notes", None).basis == "path"


def test_by_category_of_the_field_rule_entity() -> None:
    assert allowed("pci", "card.number")
    assert not allowed("pci", "email")
    assert not allowed("pci", "payout.iban")  # IBAN is FINANCIAL
    # the topology's classification override moves EMAIL_ADDRESS out of PII
    assert not allowed("pii", "email")
    decision = RoleAccess(TOPOLOGY, "pci").decide("card.number", None)
    assert decision.basis == "category"


def test_by_entity() -> None:
    decision = RoleAccess(TOPOLOGY, "emails").decide("email", None)
    assert decision.allowed
    assert decision.basis == "entity"
    assert not allowed("emails", "card.number", MIXED)


def test_detected_fields_need_every_entity_of_the_record() -> None:
    assert allowed("pii", "bio", PII_ONLY)
    assert RoleAccess(TOPOLOGY, "pii").decide("bio", PII_ONLY).basis == "record"
    assert not allowed("pii", "bio", MIXED)  # the field might be the card
    assert not allowed("pii", "bio", None)  # no summary: fail closed
    assert not allowed("pii", "notes", MIXED)  # inline rule without an entity
    assert allowed("pii", "notes", PII_ONLY)
    assert not allowed("pii", "bio", RecordSummary())
    assert allowed("pii", "bio", RecordSummary(frozenset({"PII"})))  # categories only


def test_a_field_rule_entity_is_not_overridden_by_the_summary() -> None:
    assert not allowed("pii", "card.number", PII_ONLY)


def test_unknown_role_and_empty_role() -> None:
    with pytest.raises(ConfigError, match="no role"):
        RoleAccess(TOPOLOGY, "admin")
    for path in ("email", "card.number", "bio", "$key"):
        assert not allowed("nobody", path, PII_ONLY)


def test_summary_read_from_the_worker_headers() -> None:
    actions = (
        FieldAction("card.number", "encrypt", "field", ("CREDIT_CARD",), "PCI", "restricted",
                    "rule", key_id="kaaaaaaaaaa"),
        FieldAction("bio", "encrypt", "inline", ("PERSON", "PHONE_NUMBER"), "PII",
                    "confidential", "policy", key_id="kbbbbbbbbbb", spans=2),
    )
    headers = protected_headers(TOPOLOGY, SourceRecord("raw.shop", 0, 7, None, b"{}"), actions)
    summary = RecordSummary.from_headers(headers)
    assert summary == RecordSummary(
        frozenset({"PCI", "PII"}), frozenset({"CREDIT_CARD", "PERSON", "PHONE_NUMBER"})
    )
    assert RecordSummary.from_headers([("other", b"x")]) is None
