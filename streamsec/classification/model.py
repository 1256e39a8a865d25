"""Immutable results of analysis: what was found where, and how it is classified.

These are value objects. They carry entity types, positions and scores, never the
values themselves, so they can be cached, logged and put in audit events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streamsec.records.paths import Location
from streamsec.topology.model import Category, Sensitivity

__all__ = ["FieldClassification", "Finding", "RecordClassification"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity inside a text value: ``text[start:end]`` is the entity."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str = ""


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


@dataclass(frozen=True, slots=True)
class RecordClassification:
    """The classification of one record: only its sensitive leaves appear."""

    fields: tuple[FieldClassification, ...] = field(default_factory=tuple)

    def by_location(self) -> dict[Location, FieldClassification]:
        return {f.location: f for f in self.fields}
