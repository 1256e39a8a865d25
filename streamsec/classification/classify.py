"""Step 2: turn detector findings into an immutable classification of the record."""

from __future__ import annotations

from collections.abc import Sequence

from streamsec.classification.model import FieldClassification, Finding, RecordClassification
from streamsec.classification.taxonomy import Taxonomy
from streamsec.records.paths import Location, format_path

__all__ = ["WHOLE_VALUE_COVERAGE", "classify_record", "coverage"]

WHOLE_VALUE_COVERAGE = 0.9
"""Findings covering this share of a value's non-space characters make it a field-level entity."""


def coverage(text: str, findings: Sequence[Finding]) -> float:
    """Share of the non-space characters of ``text`` inside some finding."""
    total = sum(1 for ch in text if not ch.isspace())
    if total == 0:
        return 0.0
    hit = [False] * len(text)
    for f in findings:
        for i in range(max(f.start, 0), min(f.end, len(text))):
            hit[i] = True
    covered = sum(1 for i, ch in enumerate(text) if hit[i] and not ch.isspace())
    return covered / total


def classify_record(
    scan: Sequence[tuple[Location, str]],
    findings: Sequence[tuple[Finding, ...]],
    taxonomy: Taxonomy,
) -> RecordClassification:
    fields: list[FieldClassification] = []
    for (location, text), found in zip(scan, findings, strict=True):
        if not found:
            continue
        entity_types = tuple(dict.fromkeys(f.entity_type for f in found))
        category, sensitivity = taxonomy.classify_all(entity_types)
        fields.append(
            FieldClassification(
                location=location,
                path=format_path(location),
                findings=tuple(found),
                entity_types=entity_types,
                category=category,
                sensitivity=sensitivity,
                whole_value=coverage(text, found) >= WHOLE_VALUE_COVERAGE,
            )
        )
    return RecordClassification(tuple(fields))
