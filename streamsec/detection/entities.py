"""Canonical entity types and the mapping from Presidio / spaCy labels to them."""

from __future__ import annotations

from typing import Final

__all__ = [
    "ENTITY_TYPES",
    "NER_LABELS",
    "NER_TYPES",
    "canonical",
]

ENTITY_TYPES: Final = frozenset(
    {
        "PERSON",
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "STREET_ADDRESS",
        "ZIP_CODE",
        "LOCATION",
        "DATE_TIME",
        "DATE_OF_BIRTH",
        "AGE",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "US_BANK_NUMBER",
        "US_DRIVER_LICENSE",
        "US_PASSPORT",
        "US_ITIN",
        "IP_ADDRESS",
        "URL",
        "DOMAIN_NAME",
        "ORGANIZATION",
        "TITLE",
        "NRP",
        "CRYPTO",
        "MEDICAL_LICENSE",
        "PASSWORD",
        "API_KEY",
        # health (PHI)
        "MEDICAL_RECORD_NUMBER",
        "HEALTH_CONDITION",
        "ICD10_CODE",
        "MEDICATION",
        "HEALTH_PLAN_ID",
        "UK_NHS",
        # European national identifiers
        "UK_NINO",
        "ES_NIF",
        "ES_NIE",
        "IT_FISCAL_CODE",
        "FR_INSEE",
        "DE_TAX_ID",
    }
)
"""Every entity type the detector emits."""

NER_LABELS: Final[dict[str, str]] = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "NORP": "NRP",
    "ORG": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
"""spaCy NER labels kept, and the canonical type each one becomes."""

NER_TYPES: Final = frozenset(NER_LABELS.values())
"""Entity types that only NER (or field context) can find."""

_ALIASES: Final[dict[str, str]] = {
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "NORP": "NRP",
    "ORG": "ORGANIZATION",
    "PER": "PERSON",
    "EMAIL": "EMAIL_ADDRESS",
    "PHONE": "PHONE_NUMBER",
    "ADDRESS": "STREET_ADDRESS",
    "ZIP": "ZIP_CODE",
    "IBAN": "IBAN_CODE",
    "SSN": "US_SSN",
    "IP": "IP_ADDRESS",
}


def canonical(entity_type: str) -> str:
    """The canonical name of an entity type (unknown names are returned upper-cased)."""
    name = entity_type.upper()
    return _ALIASES.get(name, name)
