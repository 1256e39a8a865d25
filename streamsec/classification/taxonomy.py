"""The default mapping from entity type to category and sensitivity.

| level        | meaning                                                          |
|--------------|------------------------------------------------------------------|
| public       | not personal on its own; never protected by default              |
| internal     | quasi-identifiers: location, dates, organisation                 |
| confidential | identifies a person directly: name, email, phone, address        |
| restricted   | harmful if leaked: government ids, card and bank data, health,    |
|              | credentials, special-category data (GDPR Art. 9)                 |

A topology overrides any entry with ``classification: {ENTITY: {category, sensitivity}}``.
An entity type missing from the mapping is treated as PII / confidential (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Protocol

from streamsec.classification.model import Category, Sensitivity

__all__ = ["DEFAULT_TAXONOMY", "UNKNOWN_ENTITY", "Override", "Taxonomy"]

_C, _S = Category, Sensitivity
_DEFAULTS: dict[str, tuple[Category, Sensitivity]] = {
    # direct identifiers
    "PERSON": (_C.PII, _S.CONFIDENTIAL),
    "EMAIL_ADDRESS": (_C.PII, _S.CONFIDENTIAL),
    "PHONE_NUMBER": (_C.PII, _S.CONFIDENTIAL),
    "STREET_ADDRESS": (_C.PII, _S.CONFIDENTIAL),
    "DATE_OF_BIRTH": (_C.PII, _S.CONFIDENTIAL),
    "IP_ADDRESS": (_C.PII, _S.CONFIDENTIAL),
    # quasi-identifiers
    "LOCATION": (_C.PII, _S.INTERNAL),
    "ZIP_CODE": (_C.PII, _S.INTERNAL),
    "DATE_TIME": (_C.PII, _S.INTERNAL),
    "AGE": (_C.PII, _S.INTERNAL),
    "TITLE": (_C.PII, _S.INTERNAL),
    "ORGANIZATION": (_C.PII, _S.INTERNAL),
    "URL": (_C.PII, _S.INTERNAL),
    "DOMAIN_NAME": (_C.PII, _S.INTERNAL),
    # special categories and government ids
    "NRP": (_C.PII, _S.RESTRICTED),
    "US_SSN": (_C.PII, _S.RESTRICTED),
    "US_ITIN": (_C.PII, _S.RESTRICTED),
    "US_PASSPORT": (_C.PII, _S.RESTRICTED),
    "US_DRIVER_LICENSE": (_C.PII, _S.RESTRICTED),
    "UK_NINO": (_C.PII, _S.RESTRICTED),
    "ES_NIF": (_C.PII, _S.RESTRICTED),
    "ES_NIE": (_C.PII, _S.RESTRICTED),
    "IT_FISCAL_CODE": (_C.PII, _S.RESTRICTED),
    "FR_INSEE": (_C.PII, _S.RESTRICTED),
    "DE_TAX_ID": (_C.PII, _S.RESTRICTED),
    # card data
    "CREDIT_CARD": (_C.PCI, _S.RESTRICTED),
    # other financial data
    "IBAN_CODE": (_C.FINANCIAL, _S.RESTRICTED),
    "US_BANK_NUMBER": (_C.FINANCIAL, _S.RESTRICTED),
    "CRYPTO": (_C.FINANCIAL, _S.RESTRICTED),
    # health
    "MEDICAL_LICENSE": (_C.PHI, _S.RESTRICTED),
    "UK_NHS": (_C.PHI, _S.RESTRICTED),
    "MEDICAL_RECORD_NUMBER": (_C.PHI, _S.RESTRICTED),
    "HEALTH_CONDITION": (_C.PHI, _S.RESTRICTED),
    "ICD10_CODE": (_C.PHI, _S.RESTRICTED),
    "MEDICATION": (_C.PHI, _S.RESTRICTED),
    "HEALTH_PLAN_ID": (_C.PHI, _S.RESTRICTED),
    # secrets
    "PASSWORD": (_C.CREDENTIALS, _S.RESTRICTED),
    "API_KEY": (_C.CREDENTIALS, _S.RESTRICTED),
}

UNKNOWN_ENTITY: tuple[Category, Sensitivity] = (_C.PII, _S.CONFIDENTIAL)

# When one value holds several entity types, the field takes the most sensitive;
# ties go to the first category here (the stricter regime).
_ALL_KEPT = 4096
"""Tuples of entity types whose classification a taxonomy remembers."""
_CATEGORY_PRECEDENCE = (_C.PCI, _C.PHI, _C.CREDENTIALS, _C.FINANCIAL, _C.PII)


class Override(Protocol):
    """A topology's classification override (``topology.model.ClassificationOverride``)."""

    @property
    def category(self) -> Category: ...

    @property
    def sensitivity(self) -> Sensitivity: ...


class Taxonomy:
    """Entity type -> (category, sensitivity), with a topology's overrides applied."""

    def __init__(self, mapping: Mapping[str, tuple[Category, Sensitivity]]) -> None:
        self._mapping = MappingProxyType(dict(mapping))
        self._all: dict[tuple[str, ...], tuple[Category, Sensitivity]] = {}

    def with_overrides(self, overrides: Mapping[str, Override]) -> Taxonomy:
        merged = dict(self._mapping)
        merged.update({k: (v.category, v.sensitivity) for k, v in overrides.items()})
        return Taxonomy(merged)

    def classify(self, entity_type: str) -> tuple[Category, Sensitivity]:
        return self._mapping.get(entity_type, UNKNOWN_ENTITY)

    def classify_all(self, entity_types: Iterable[str]) -> tuple[Category, Sensitivity]:
        """The classification of a value holding all these entity types (remembered
        per tuple of types: the mapping never changes)."""
        if not isinstance(entity_types, tuple):
            return self._classify_all(entity_types)
        known = self._all.get(entity_types)
        if known is None:
            if len(self._all) >= _ALL_KEPT:
                self._all.clear()
            known = self._all[entity_types] = self._classify_all(entity_types)
        return known

    def _classify_all(self, entity_types: Iterable[str]) -> tuple[Category, Sensitivity]:
        pairs = [self.classify(e) for e in entity_types] or [UNKNOWN_ENTITY]
        top = max(s.rank for _, s in pairs)
        categories = {c for c, s in pairs if s.rank == top}
        category = next(c for c in _CATEGORY_PRECEDENCE if c in categories)
        return category, next(s for _, s in pairs if s.rank == top)


DEFAULT_TAXONOMY = Taxonomy(_DEFAULTS)
