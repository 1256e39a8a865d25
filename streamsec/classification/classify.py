"""Step 2: turn detector findings into an immutable classification of the record."""

from __future__ import annotations

from collections.abc import Sequence

from streamsec.classification.model import FieldClassification, Finding, RecordClassification
from streamsec.classification.taxonomy import Taxonomy
from streamsec.records.paths import Location, format_path

__all__ = ["WHOLE_VALUE_COVERAGE", "classify_record", "coverage"]

WHOLE_VALUE_COVERAGE = 0.9
"""Findings covering this share of a value's non-space characters make it a field-level entity."""


def _solid(text: str) -> int:
    """Non-space characters (``str.split`` splits on exactly the ``isspace`` ones)."""
    return len("".join(text.split()))


def coverage(text: str, findings: Sequence[Finding]) -> float:
    """Share of the non-space characters of ``text`` inside some finding."""
    if len(findings) == 1 and findings[0].start <= 0 and findings[0].end >= len(text):
        return 1.0 if text and not text.isspace() else 0.0  # one finding covers it all
    total = _solid(text)
    if total == 0:
        return 0.0
    size = len(text)
    spans = sorted((max(f.start, 0), min(f.end, size)) for f in findings)
    covered = 0
    reach = 0
    for start, end in spans:
        start = max(start, reach)
        if end > start:
            covered += _solid(text[start:end])
            reach = end
    return covered / total


def classify_record(
    scan: Sequence[tuple[Location, str]],
    findings: Sequence[tuple[Finding, ...]],
    taxonomy: Taxonomy,
    paths: Sequence[str] = (),
) -> RecordClassification:
    """``paths``: the schema path of each ``scan`` entry when the caller knows them."""
    fields: list[FieldClassification] = []
    for i, ((location, text), found) in enumerate(zip(scan, findings, strict=True)):
        if not found:
            continue
        entity_types = tuple(dict.fromkeys(f.entity_type for f in found))
        category, sensitivity = taxonomy.classify_all(entity_types)
        fields.append(
            FieldClassification(
                location=location,
                path=paths[i] if paths else format_path(location),
                findings=tuple(found),
                entity_types=entity_types,
                category=category,
                sensitivity=sensitivity,
                whole_value=coverage(text, found) >= WHOLE_VALUE_COVERAGE,
            )
        )
    return RecordClassification(tuple(fields))
