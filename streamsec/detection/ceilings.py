"""What a cheap recognizer can score at most on a text, so the batch engine can skip
one whose results would all be dropped (:meth:`BatchEngine._run_cheap`).

A result below the threshold survives only when Presidio's context enhancement could
lift it: one of its recognizer's context words is in the text or the path. So a
recognizer that can only score below the threshold on a text, with none of its
context words there, is not run. What it can score at most is known when it only
matches patterns the prefilter database holds (a text scores no more than the
patterns the scan reported), validates none of them up, and raises none beyond what
its ``raised_score`` says.
"""

from __future__ import annotations

from collections.abc import Callable

from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult

from streamsec.detection.recognizers import RecognizerSpec
from streamsec.detection.recognizers._base import (
    Compiled,
    FastPatternRecognizer,
    compile_patterns,
)

__all__ = ["Analyze", "Ceiling", "ceilings"]

Analyze = Callable[[str], list[RecognizerResult]]

Ceiling = tuple[dict[int, float], Callable[[str], float | None]]
"""The score each prefilter pattern id gives at most, and how far the recognizer's
own ``analyze`` may raise one on a text (None: it cannot say)."""


def _no_raise(text: str) -> float:
    return 0.0


def ceilings(
    cheap: list[tuple[EntityRecognizer, RecognizerSpec, Analyze, frozenset[int] | None]],
    own_enhancers: set[str],
) -> list[Ceiling | None]:
    """Per cheap recognizer, what it can score at most, when it can tell: it only
    matches patterns the prefilter holds (so a text scores no more than its reported
    patterns, or what its ``raised_score`` says), validates none up (a validated match
    scores 1.0), and enhances nothing itself. None for the others, and for every
    recognizer whose results an own enhancer reads (the ZIP code recognizer reads the
    locations next to it, however weak): those always run."""
    read: set[str] | None = set()
    for recognizer, *_ in cheap:
        if recognizer.id in own_enhancers:
            reads = getattr(recognizer, "READS_ENTITIES", None)
            read = None if reads is None or read is None else read | set(reads)
    out: list[Ceiling | None] = []
    for recognizer, _, _, pids in cheap:
        raised: Callable[[str], float | None] | None = None
        if type(recognizer).analyze is PatternRecognizer.analyze:
            raised = _no_raise  # the lean matcher: pattern scores only
        elif isinstance(recognizer, FastPatternRecognizer) and (
            recognizer.FINDS_ONLY_THROUGH_PATTERNS
            or type(recognizer).analyze is FastPatternRecognizer.analyze
        ):
            raised = recognizer.raised_score
        if (
            raised is None or read is None or pids is None or recognizer.id in own_enhancers
            or not isinstance(recognizer, PatternRecognizer)
            or type(recognizer).validate_result is not PatternRecognizer.validate_result
            or set(recognizer.supported_entities) & read
        ):
            out.append(None)
            continue
        compiled: Compiled = getattr(recognizer, "_compiled", None) or compile_patterns(recognizer)
        scores: dict[int, float] = {}
        for pattern, _, _, pid in compiled:
            scores[pid] = max(scores.get(pid, 0.0), pattern.score)
        out.append((scores, raised))
    return out
