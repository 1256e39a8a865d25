from __future__ import annotations

import pytest

from streamsec.decryption.roles import RoleAccess
from streamsec.errors import ConfigError
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

PII_KEY = frozenset({"pii"})
MIXED = frozenset({"pii", "pci"})


def allowed(role: str, path: str, keks: frozenset[str] = frozenset()) -> bool:
    return RoleAccess(TOPOLOGY, role).decide(path, keks).allowed


def test_by_path_with_list_patterns_and_subtrees() -> None:
    assert allowed("by_path", "orders[*].card")
    assert allowed("by_path", "orders[*].card.number")
    assert allowed("by_path", "notes")
    assert not allowed("by_path", "orders[*].cardholder")
    assert not allowed("by_path", "orders.card")  # not a list item
    assert not allowed("by_path", "email", MIXED)
    assert RoleAccess(TOPOLOGY, "by_path").decide("notes").basis == "path"


def test_by_category_of_the_field_rule_entity() -> None:
    assert allowed("pci", "card.number")
    assert not allowed("pci", "email")
    assert not allowed("pci", "payout.iban")  # IBAN is FINANCIAL
    # the topology's classification override moves EMAIL_ADDRESS out of PII
    assert not allowed("pii", "email")
    decision = RoleAccess(TOPOLOGY, "pci").decide("card.number")
    assert decision.basis == "category"


def test_by_entity() -> None:
    decision = RoleAccess(TOPOLOGY, "emails").decide("email")
    assert decision.allowed
    assert decision.basis == "entity"
    assert not allowed("emails", "card.number", MIXED)


def test_detected_fields_by_the_kek_of_their_keys() -> None:
    assert allowed("pii", "bio", PII_KEY)
    assert RoleAccess(TOPOLOGY, "pii").decide("bio", PII_KEY).basis == "key"
    assert not allowed("pii", "bio", MIXED)  # inline text holding a card too
    assert not allowed("pii", "bio")  # unknown keys: fail closed
    assert not allowed("pii", "bio", frozenset({"default"}))  # no key separation
    assert not allowed("pii", "notes", frozenset({"unclassified"}))
    assert allowed("pci", "bio", frozenset({"pci"}))


def test_a_field_rule_entity_is_not_overridden_by_the_key() -> None:
    assert not allowed("pii", "card.number", PII_KEY)


def test_unknown_role_and_empty_role() -> None:
    with pytest.raises(ConfigError, match="no role"):
        RoleAccess(TOPOLOGY, "admin")
    for path in ("email", "card.number", "bio", "$key"):
        assert not allowed("nobody", path, PII_KEY)
