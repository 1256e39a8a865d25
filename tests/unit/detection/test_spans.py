from __future__ import annotations

from itertools import pairwise

from streamsec.detection.spans import Span, resolve


def test_same_type_overlaps_merge() -> None:
    text = "at 12 Main St Springfield"
    spans = [Span("STREET_ADDRESS", 3, 13, 0.6, "a"), Span("STREET_ADDRESS", 6, 25, 0.4, "b")]
    (finding,) = resolve(text, spans)
    assert (finding.start, finding.end, finding.score) == (3, 25, 0.6)


def test_stronger_span_wins_and_weaker_keeps_its_own_part() -> None:
    text = "Jane Roe Suite 5 Main"
    spans = [Span("PERSON", 0, 14, 0.85, "ner"), Span("STREET_ADDRESS", 9, 21, 0.6, "re")]
    findings = resolve(text, spans)
    assert [(f.entity_type, text[f.start : f.end]) for f in findings] == [
        ("PERSON", "Jane Roe Suite"),
        ("STREET_ADDRESS", "5 Main"),
    ]
    assert all(a.end <= b.start for a, b in pairwise(findings))


def test_contained_weaker_span_is_dropped() -> None:
    text = "mail jane@example.com now"
    spans = [Span("EMAIL_ADDRESS", 5, 21, 1.0, "e"), Span("DOMAIN_NAME", 10, 21, 0.5, "u")]
    assert [f.entity_type for f in resolve(text, spans)] == ["EMAIL_ADDRESS"]
