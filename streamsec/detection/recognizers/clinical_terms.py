"""Conditions and medications named in text, from packaged vocabularies
(:mod:`streamsec.detection.vocabulary`): ICD-10-CM's condition words, and the drug
dictionary's generic and brand names.

* A condition word (``asthma``, ``hypothyroidism``) stands on its own; a head
  word (``disease``, ``disorder``, ``failure``, ...) counts only after a modifier.
  The span takes up to three modifiers in front (words of ICD-10-CM's
  descriptions, ``type 2``): ``chronic kidney disease``, ``breast cancer``.
* A drug name with its dose (``metformin 500 mg``) stands on its own; without a
  dose it needs a context word (prescribed, taking, medication, ...).
"""

from __future__ import annotations

import functools
from typing import Final

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from streamsec.detection.recognizers._base import recognizer_name
from streamsec.detection.vocabulary import (
    condition_terms,
    drug_first_words,
    drug_names,
    modifier_words,
)

__all__ = ["HealthConditionRecognizer", "MedicationRecognizer"]

_TOKEN: Final = regex.compile(r"\p{L}[\p{L}'\u2019\-]*+|\d+")
_HEADS: Final = frozenset(
    [
        "disease",
        "disorder",
        "syndrome",
        "failure",
        "fibrillation",
        "infection",
        "deficiency",
        "insufficiency",
        "apnea",
        "apnoea",
        "attack",
        "cancer",
        "carcinoma",
        "tumor",
        "tumour",
        "injury",
    ]
)
_DOSE: Final = regex.compile(
    r"[ \t]*\d+(?:[.,]\d+)?[ \t]*(?:mg|mcg|\u00b5g|g|ml|mL|units?|iu|IU|puffs?|tablets?|caps?)\b"
)
_MAX_MODIFIERS: Final = 3

Token = tuple[int, int, str]


_WORDS: Final = regex.compile(r"\p{L}[\p{L}'\u2019\-]*+")


@functools.lru_cache(maxsize=256)
def _words(text: str) -> frozenset[str]:
    """The lower-case words of a text: one C-level pass, so that a text naming no
    condition or drug (nearly all) costs one set intersection."""
    return frozenset(_WORDS.findall(text.lower()))


@functools.lru_cache(maxsize=256)
def _tokens(text: str) -> tuple[Token, ...]:
    """(start, end, lower-case word) of each word or number; shared by both
    recognizers, which run on the same text one after the other."""
    return tuple((m.start(), m.end(), m.group().lower()) for m in _TOKEN.finditer(text))


def _result(recognizer: EntityRecognizer, start: int, end: int, score: float) -> RecognizerResult:
    name = recognizer_name(recognizer)
    return RecognizerResult(
        entity_type=recognizer.supported_entities[0],
        start=start,
        end=end,
        score=score,
        analysis_explanation=AnalysisExplanation(recognizer=name, original_score=score),
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
        },
    )


class _VocabularyRecognizer(EntityRecognizer):
    ENTITY: str = ""
    CONTEXT: list[str] = []

    def __init__(self) -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=type(self).__name__,
            supported_language="en",
            context=list(self.CONTEXT),
        )



class HealthConditionRecognizer(_VocabularyRecognizer):
    """Recognize diagnoses and conditions by vocabulary."""

    ENTITY = "HEALTH_CONDITION"
    CONTEXT = ["diagnosis", "diagnosed", "condition", "history", "dx", "suffers", "treated"]
    SCORE: Final = 0.6

    def load(self) -> None:
        """Read the vocabularies now (when the analyzer is built), not in a batch."""
        condition_terms()
        modifier_words()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        terms, modifiers = condition_terms(), modifier_words()
        words = _words(text)
        if words.isdisjoint(terms) and words.isdisjoint(_HEADS):
            return []
        tokens = _tokens(text)
        results: list[RecognizerResult] = []
        for i, (_, end, word) in enumerate(tokens):
            head = word in _HEADS
            if not head and word not in terms:
                continue
            first = i
            while first > 0 and i - first < _MAX_MODIFIERS:
                prev = tokens[first - 1][2]
                if prev in modifiers or (
                    prev.isdigit() and first > 1 and tokens[first - 2][2] == "type"
                ):
                    first -= 1
                else:
                    break
            if head and first == i:
                continue
            span_start = tokens[first][0]
            if results and span_start < results[-1].end:
                results[-1].end = end
                continue
            results.append(_result(self, span_start, end, self.SCORE))
        return results


class MedicationRecognizer(_VocabularyRecognizer):
    """Recognize medications (with their dose) by vocabulary."""

    ENTITY = "MEDICATION"
    CONTEXT = [
        "medication",
        "medications",
        "prescribed",
        "prescription",
        "started",
        "taking",
        "continue",
        "dose",
        "daily",
        "tablet",
        "rx",
        "meds",
        "drug",
    ]

    def load(self) -> None:
        """Read the vocabulary now (when the analyzer is built), not in a batch."""
        drug_first_words()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        drugs, first = drug_names(), drug_first_words()
        if _words(text).isdisjoint(first):
            return []
        tokens = _tokens(text)
        results: list[RecognizerResult] = []
        skip_to = 0
        for i, (start, _, word) in enumerate(tokens):
            if start < skip_to or word not in first:
                continue
            end = _longest_name(text, tokens, i, drugs)
            if end is None:
                continue
            dose = _DOSE.match(text, end)
            end = dose.end() if dose else end
            skip_to = end
            if results and text[results[-1].end : start].strip() == "":
                results[-1].end = end
                continue
            results.append(_result(self, start, end, 0.7 if dose else 0.45))
        return results


def _longest_name(
    text: str, tokens: tuple[Token, ...], i: int, names: frozenset[str]
) -> int | None:
    """The end of the longest name (up to three words) starting at token ``i``."""
    for width in (3, 2, 1):
        if i + width > len(tokens):
            continue
        end = tokens[i + width - 1][1]
        if text[tokens[i][0] : end].lower() in names:
            return end
    return None
