"""Immutable results of analysis: what was found where, and how it is classified.

These are value objects. They carry entity types, positions and scores, never the
values themselves, so they can be cached, logged and put in audit events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from streamsec.frozen import quick_init
from streamsec.records.paths import Location

__all__ = ["Category", "FieldClassification", "Finding", "RecordClassification", "Sensitivity"]


class Category(StrEnum):
    PII = "PII"
    PHI = "PHI"
    PCI = "PCI"
    FINANCIAL = "FINANCIAL"
    CREDENTIALS = "CREDENTIALS"


class Sensitivity(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"

    @property
    def rank(self) -> int:
        return _RANKS[self._value_]


_SENSITIVITY_ORDER = list(Sensitivity)
_RANKS: dict[str, int] = {s.value: i for i, s in enumerate(_SENSITIVITY_ORDER)}


@quick_init
@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity inside a text value: ``text[start:end]`` is the entity."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str = ""


@quick_init
@dataclass(frozen=True, slots=True)
class FieldClassification:
    """How one sensitive leaf was classified."""

    location: Location
    path: str
    findings: tuple[Finding, ...]
    entity_types: tuple[str, ...]
    category: Category
    sensitivity: Sensitivity
    whole_value: bool
    """True when the findings cover the value (a field-level entity); False for free text."""

    @property
    def score(self) -> float:
        return max((f.score for f in self.findings), default=1.0)


@quick_init
@dataclass(frozen=True, slots=True)
class RecordClassification:
    """The classification of one record: only its sensitive leaves appear."""

    fields: tuple[FieldClassification, ...] = field(default_factory=tuple)
