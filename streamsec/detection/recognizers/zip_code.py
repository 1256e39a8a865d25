"""Postal codes: US ZIP and ZIP+4, and the common European, Canadian, UK and Latin
American shapes. Alone a short number is weak evidence; the score rises with a
context word (zip, postal, ...) or when the code sits right next to a location or
street address found in the same text."""

from __future__ import annotations

from typing import Final

import regex
from presidio_analyzer import Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE

__all__ = ["ZipCodeRecognizer"]

_NEXT_TO: Final = frozenset({"LOCATION", "STREET_ADDRESS", "GPE"})
_GAP: Final = regex.compile(r"[ \t]*(?:,|\r?\n)?[ \t]*(?:\p{Lu}{2}[ \t]+)?")
_ADJACENT_SCORE: Final = 0.6


class ZipCodeRecognizer(FastPatternRecognizer):
    """Recognize postal codes; weak alone, strong with context or next to a place."""

    ENTITY = "ZIP_CODE"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern("US ZIP+4", r"\b\d{5}-\d{4}\b", 0.3),
        Pattern("five digits", r"(?<![\d.,-])\d{5}(?![\d.,-]|\s?%)", 0.2),
        Pattern("three to six digits", r"(?<![\d.,-])\d{3,6}(?![\d.,-]|\s?%)", 0.15),
        Pattern(
            "split digits", r"(?<![\d.,-])(?:\d{3}[ ]\d{2}|\d{2}-\d{3}|\d{5}-\d{3})(?![\d-])", 0.15
        ),
        Pattern("digits + letters", r"(?<![\d.,-])\d{4}[ ]?\p{Lu}{2}\b", 0.15),
        Pattern("Canadian", r"\b\p{Lu}\d\p{Lu}[ ]?\d\p{Lu}\d\b", 0.4),
        Pattern("UK", r"\b\p{Lu}{1,2}\d[\p{Lu}\d]?[ ]\d\p{Lu}{2}\b", 0.4),
    ]
    CONTEXT = ["zip", "zipcode", "postal", "postcode", "post code", "plz", "cep", "pin code"]
    READS_ENTITIES = _NEXT_TO
    """What :meth:`enhance_using_context` reads of the other recognizers' results, at
    any score (the batch engine always runs the recognizers that find these)."""

    def enhance_using_context(
        self,
        text: str,
        raw_recognizer_results: list[RecognizerResult],
        other_raw_recognizer_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts | None,
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        places = [r for r in other_raw_recognizer_results if r.entity_type in _NEXT_TO]
        for result in raw_recognizer_results:
            if any(_adjacent(text, place, result) for place in places):
                result.score = max(result.score, _ADJACENT_SCORE)
        return raw_recognizer_results


def _adjacent(text: str, place: RecognizerResult, code: RecognizerResult) -> bool:
    if place.end <= code.start:
        gap = _GAP.fullmatch(text, place.end, code.start)
    elif code.end <= place.start:
        gap = _GAP.fullmatch(text, code.end, place.start)
    else:
        return False
    return gap is not None
