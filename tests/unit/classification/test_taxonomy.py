from __future__ import annotations

from streamsec.classification.model import Category, Sensitivity
from streamsec.classification.taxonomy import DEFAULT_TAXONOMY, UNKNOWN_ENTITY
from streamsec.topology.model import ClassificationOverride


def test_defaults() -> None:
    assert DEFAULT_TAXONOMY.classify("CREDIT_CARD") == (Category.PCI, Sensitivity.RESTRICTED)
    assert DEFAULT_TAXONOMY.classify("EMAIL_ADDRESS") == (Category.PII, Sensitivity.CONFIDENTIAL)


def test_unknown_entity_fails_closed() -> None:
    assert DEFAULT_TAXONOMY.classify("SOMETHING_NEW") == UNKNOWN_ENTITY
    assert UNKNOWN_ENTITY[1].rank >= Sensitivity.CONFIDENTIAL.rank


def test_most_sensitive_entity_wins_and_stricter_category_breaks_ties() -> None:
    assert DEFAULT_TAXONOMY.classify_all(["PERSON", "CREDIT_CARD"]) == (
        Category.PCI, Sensitivity.RESTRICTED)
    assert DEFAULT_TAXONOMY.classify_all(["IBAN_CODE", "CREDIT_CARD"])[0] is Category.PCI


def test_overrides_apply_without_mutating_defaults() -> None:
    custom = DEFAULT_TAXONOMY.with_overrides(
        {"PERSON": ClassificationOverride(
            category=Category.PHI, sensitivity=Sensitivity.RESTRICTED)}
    )
    assert custom.classify("PERSON") == (Category.PHI, Sensitivity.RESTRICTED)
    assert DEFAULT_TAXONOMY.classify("PERSON") == (Category.PII, Sensitivity.CONFIDENTIAL)
