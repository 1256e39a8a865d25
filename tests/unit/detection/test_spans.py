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


def test_resolution_matches_a_brute_force_check_on_random_spans() -> None:
    import random

    rng = random.Random(5)
    text = "word " * 420
    for _ in range(50):
        spans = []
        for _ in range(40):
            start = rng.randrange(0, 1990)
            spans.append(
                Span(rng.choice("AB"), start, start + rng.randrange(1, 40), rng.random(), "r")
            )
        findings = resolve(text, spans)
        covered = [False] * len(text)
        for f in findings:
            assert not any(covered[f.start : f.end]), "findings overlap"
            covered[f.start : f.end] = [True] * (f.end - f.start)
        for s in spans:  # every alphanumeric character of every span stays protected
            assert all(covered[i] for i in range(s.start, s.end) if text[i].isalnum())


def test_resolution_is_not_quadratic() -> None:
    import time

    def run(n: int) -> float:
        text = "ab " * n
        spans = [Span("A", i * 3, i * 3 + 2, 0.5 + (i % 7) / 20, "r") for i in range(n)]
        spans += [Span("B", i * 3, i * 3 + 5, 0.4, "r") for i in range(0, n, 2)]
        started = time.process_time()
        findings = resolve(text, spans)
        assert len(findings) == n
        return time.process_time() - started

    small = min(run(2_000) for _ in range(3))
    large = min(run(32_000) for _ in range(3))
    # 16x the spans: quadratic would be ~256x; n log n stays far below 100x, even on a
    # loaded machine (best of three CPU-time runs each)
    assert large < 100 * max(small, 1e-3)
