"""Lean pattern matching for every ``PatternRecognizer`` streamsec runs.

:func:`match_patterns` runs a recognizer's patterns with the same semantics as
Presidio's ``PatternRecognizer.analyze`` (its ``validate_result`` /
``invalidate_result``, its regex flags) but without the per-match bookkeeping,
and it lets a pattern mark the entity with a named group ``value`` (so a cue can
be matched without a variable-length look-behind). :class:`FastPatternRecognizer`
is the base of streamsec's own pattern recognizers: class attributes
``PATTERNS``, ``CONTEXT``, ``ENTITY`` and ``FLAGS``, as in Presidio's, and
``GATES`` (:mod:`._gate`): per pattern name, the cheap conditions that let a text
skip the pattern's full regex (Presidio's recognizers take theirs from
:mod:`._gates`). Every compiled pattern also has its id in the one-pass
Hyperscan prefilter (:mod:`._prefilter`): on a text the prefilter can decide, a
pattern it rules out is not run at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import regex
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts

from streamsec.detection.recognizers import _prefilter
from streamsec.detection.recognizers._gate import CompiledGate, Gate
from streamsec.detection.recognizers._gates import PRESIDIO_GATES

__all__ = [
    "NO_ARTIFACTS",
    "Compiled",
    "FastPatternRecognizer",
    "attribute",
    "compile_patterns",
    "compiled_matches",
    "match_patterns",
    "recognizer_name",
]

_DEFAULT_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE

Compiled = list[tuple[Pattern, Any, CompiledGate | None, int]]
"""Per pattern: the pattern, its compiled regex, its gate, its prefilter id."""

NO_ARTIFACTS = cast("NlpArtifacts", None)
"""Presidio's recognizers accept ``None`` for artifacts although typed otherwise."""


def attribute(obj: object, name: str) -> Any:
    """An attribute Presidio sets without a type mypy can see."""
    return getattr(obj, name)


def recognizer_name(recognizer: EntityRecognizer) -> str:
    return str(attribute(recognizer, "name"))


def gates_of(recognizer: PatternRecognizer) -> dict[str, Gate]:
    """The gates of a recognizer's patterns, by pattern name."""
    own: dict[str, Gate] | None = getattr(recognizer, "GATES", None)
    return own if own is not None else PRESIDIO_GATES.get(recognizer_name(recognizer), {})


def compile_patterns(recognizer: PatternRecognizer, *, gated: bool = True) -> Compiled:
    """Each pattern compiled, with its gate when one was proven for it and its
    prefilter id."""
    flags = recognizer.global_regex_flags or _DEFAULT_FLAGS
    patterns: list[Pattern] = attribute(recognizer, "patterns")
    gates = gates_of(recognizer) if gated else {}
    compiled: Compiled = []
    for p in patterns:
        gate = gates.get(p.name)
        compiled.append(
            (
                p,
                regex.compile(p.regex, flags),
                gate.compile(p.regex, flags) if gate else None,
                _prefilter.pattern_id(p.regex, flags, f"{recognizer_name(recognizer)}/{p.name}"),
            )
        )
    return compiled


def compiled_matches(text: str, compiled: Compiled) -> Iterator[tuple[Pattern, Any]]:
    """Each match of the compiled patterns on ``text``, in pattern order, through each
    pattern's gate; a pattern the prefilter holds but did not report for this text
    cannot match it and is not run."""
    decided = _prefilter.scan(text)
    for pattern, rx, gate, pid in compiled:
        if decided is not None and pid in decided[0] and pid not in decided[1]:
            continue
        for match in rx.finditer(text) if gate is None else gate.finditer(rx, text):
            yield pattern, match


def match_patterns(
    recognizer: PatternRecognizer, text: str, compiled: Compiled
) -> list[RecognizerResult]:
    """Presidio's pattern semantics, lean: validate, invalidate, drop zero scores.
    The recognizer's name and id are read only once something matched (most texts
    match nothing, and ``id`` is computed on every read). Matches come from
    :func:`compiled_matches`."""
    results: list[RecognizerResult] = []
    name = ""
    metadata: dict[str, str] = {}
    for pattern, match in compiled_matches(text, compiled):
        start, end = match.span("value") if "value" in match.re.groupindex else match.span()
        if end <= start:
            continue
        matched = text[start:end]
        score = pattern.score
        valid = recognizer.validate_result(matched)
        if valid is not None:
            score = EntityRecognizer.MAX_SCORE if valid else EntityRecognizer.MIN_SCORE
        if recognizer.invalidate_result(matched):
            score = EntityRecognizer.MIN_SCORE
        if score <= EntityRecognizer.MIN_SCORE:
            continue
        if not metadata:
            name = recognizer_name(recognizer)
            metadata = {
                RecognizerResult.RECOGNIZER_NAME_KEY: name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
            }
        results.append(
            RecognizerResult(
                entity_type=recognizer.supported_entities[0],
                start=start,
                end=end,
                score=score,
                analysis_explanation=AnalysisExplanation(
                    recognizer=name,
                    original_score=score,
                    pattern_name=pattern.name,
                    validation_result=bool(valid),
                ),
                recognition_metadata=dict(metadata),
            )
        )
    return results


class FastPatternRecognizer(PatternRecognizer):
    """Base of streamsec's pattern recognizers (``value`` groups, lean matching)."""

    PATTERNS: list[Pattern] = []
    CONTEXT: list[str] = []
    ENTITY: str = ""
    FLAGS: int = _DEFAULT_FLAGS
    GATES: dict[str, Gate] = {}
    FINDS_ONLY_THROUGH_PATTERNS = False
    """True on a subclass whose own ``analyze`` returns only (adjusted) results of
    ``match_patterns`` over ``_compiled``: the batch engine then skips it for a text
    on which the prefilter rules out all its patterns (as it does for a subclass
    that keeps this ``analyze``)."""

    def __init__(
        self,
        patterns: list[Pattern] | None = None,
        context: list[str] | None = None,
        supported_language: str = "en",
        supported_entity: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            supported_entity=supported_entity or self.ENTITY,
            patterns=patterns or list(self.PATTERNS),
            context=context or list(self.CONTEXT),
            supported_language=supported_language,
            name=name or type(self).__name__,
            global_regex_flags=self.FLAGS,
        )
        self._compiled = compile_patterns(self)

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        return match_patterns(self, text, self._compiled)

    def raised_score(self, text: str) -> float | None:
        """The most this recognizer's own ``analyze`` may raise a match's score to on
        ``text`` beyond its pattern's (0.0: it raises none); None when it cannot say.
        With a number here, the batch engine may skip it on a text whose patterns can
        only score below the threshold (``engine._ceilings``)."""
        return 0.0 if type(self).analyze is FastPatternRecognizer.analyze else None
