"""The plan steps of rule targets and their field actions are shared by the records
of a compiled shape: sharing must never carry one record's decision into another's."""

from __future__ import annotations

from streamsec.classification.model import Category, Sensitivity
from streamsec.classification.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.keys import KeyPurpose
from streamsec.decryption.decryptor import Decryptor
from streamsec.protection.applier import _field_action
from streamsec.protection.planner import PlannedStep
from streamsec.protection.protector import Protector
from streamsec.protection.result import FieldAction
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology
from streamsec.topology.model import FieldRule

TOPOLOGY = """name: shared
input: raw.s
output: prot.s
fields:
  card: {action: encrypt, entity: CREDIT_CARD}
  ref: keep
"""


def test_a_rotated_key_shows_in_the_next_records_actions() -> None:
    provider = InMemoryKeyProvider()
    topo = parse_topology(TOPOLOGY)
    cipher = KeyringCipher(provider, topo.name)
    protector = Protector(topo, detector=FakeDetector(), cipher=cipher)
    first = protector.protect({"card": "4111 1111 1111 1111", "ref": "a"})
    again = protector.protect({"card": "5500 0000 0000 0004", "ref": "b"})
    (card,) = [a for a in first.actions if a.action == "encrypt"]
    assert [a for a in again.actions if a.action == "encrypt"] == [card]
    provider.rotate(topo.name, KeyPurpose.ENCRYPT)
    rotated = protector.protect({"card": "4111 1111 1111 1111", "ref": "c"})
    (new,) = [a for a in rotated.actions if a.action == "encrypt"]
    assert new.key_id is not None and new.key_id != card.key_id
    decryptor = Decryptor(topo, cipher=cipher)
    assert decryptor.decrypt(rotated.record)["card"] == "4111 1111 1111 1111"


def test_another_taxonomy_gets_its_own_rule_steps() -> None:
    topo = parse_topology(TOPOLOGY)
    cipher = KeyringCipher(InMemoryKeyProvider(), topo.name)
    record = {"card": "4111 1111 1111 1111", "ref": "a"}
    plain = Protector(topo, detector=FakeDetector(), cipher=cipher)
    other = Protector(
        topo, detector=FakeDetector(), cipher=cipher,
        taxonomy=Taxonomy({"CREDIT_CARD": (Category.FINANCIAL, Sensitivity.INTERNAL)}),
    )
    for _ in range(3):
        (a,) = [x for x in plain.protect(record).actions if x.action == "encrypt"]
        (b,) = [x for x in other.protect(record).actions if x.action == "encrypt"]
        assert (a.category, a.sensitivity) == ("PCI", "restricted")
        assert (b.category, b.sensitivity) == ("FINANCIAL", "internal")


def test_classify_all_remembered_is_classify_all() -> None:
    taxonomy = Taxonomy(dict(DEFAULT_TAXONOMY._mapping))
    for types in [("PERSON",), ("CREDIT_CARD", "PERSON"), ("PERSON", "CREDIT_CARD"), (),
                  ("NOT_A_TYPE",), ("US_SSN", "EMAIL_ADDRESS", "IBAN_CODE")]:
        want = taxonomy._classify_all(types)
        assert taxonomy.classify_all(types) == want == taxonomy.classify_all(types)
        assert taxonomy.classify_all(list(types)) == want


def _step(score: float | None, path: str = "note") -> PlannedStep:
    rule = FieldRule(action="encrypt")
    return PlannedStep(
        location=("note",), path=path, rule=rule, mode="field", source="policy",
        entity_types=("PERSON",), category=Category.PII, sensitivity=Sensitivity.CONFIDENTIAL,
        score=score,
    )


def test_policy_field_actions_are_shared_by_value_and_never_across_values() -> None:
    made = _field_action(_step(0.85), "encrypt", "k1", 1)
    assert made == FieldAction(
        path="note", action="encrypt", mode="field", entity_types=("PERSON",), category="PII",
        sensitivity="confidential", source="policy", key_id="k1", score=0.85, spans=1,
    )
    assert type(made.category) is str and type(made.sensitivity) is str  # enum values
    assert _field_action(_step(0.85), "encrypt", "k1", 1) is made  # another record's step
    others = [
        _field_action(_step(0.85), "encrypt", "k2", 1),
        _field_action(_step(0.85), "mask", "k1", 1),
        _field_action(_step(0.9), "encrypt", "k1", 1),
        _field_action(_step(0.85), "encrypt", "k1", 2),
        _field_action(_step(0.85, "other"), "encrypt", "k1", 1),
        _field_action(_step(None), "encrypt", "k1", 1),
    ]
    assert all(o != made for o in others)
    one = _field_action(_step(1.0), "encrypt", None, 1)
    assert _field_action(_step(1), "encrypt", None, 1) is not one  # 1 == 1.0, types differ
    assert type(_field_action(_step(1), "encrypt", None, 1).score) is int
