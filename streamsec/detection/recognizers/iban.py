"""Presidio's IBAN recognizer, with its regexes compiled once.

Presidio's ``IbanRecognizer`` passes its pattern and each country's format to
``regex`` as strings on every call, and builds an explanation for every group it
tries; on a structured value that holds an IBAN that was about 85 us per value,
the most expensive recognizer on the harness's structured records. This subclass
keeps Presidio's semantics exactly (the same pattern, the same groups tried from the
longest, the same checksum and per-country format, the same scores; checked against
Presidio's own class in ``tests/unit/detection/test_iban.py``), with the regexes
compiled once, and:

* its pattern is in the Hyperscan prefilter, so a text the prefilter rules out
  skips it (``FINDS_ONLY_THROUGH_PATTERNS``);
* a value that fails validation is never logged (Presidio logs it in clear at
  error level).
"""

from __future__ import annotations

from typing import Any, Final, cast

import regex
from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import IbanRecognizer
from presidio_analyzer.predefined_recognizers.generic.iban_patterns import regex_per_country

from streamsec.detection.recognizers._base import (
    compile_patterns,
    compiled_matches,
    recognizer_name,
)

__all__ = ["FastIbanRecognizer"]

_FORMAT_FLAGS: Final = regex.DOTALL | regex.MULTILINE
_FORMATS: Final = {
    country: regex.compile(pattern, _FORMAT_FLAGS)
    for country, pattern in regex_per_country.items()
    if pattern
}
"""Presidio's per-country formats (without its BOS/EOS: only an exact-match
recognizer adds them, and Presidio's default is not exact)."""


def _check_digits(iban: str) -> str:
    moved = (iban[:2] + "00" + iban[4:]).upper()
    number = (moved[4:] + moved[:4]).translate(IbanRecognizer.LETTERS)
    return f"{98 - (int(number) % 97):0>2}"


def _formatted(iban: str) -> bool:
    rx = _FORMATS.get(iban[:2])
    return rx is not None and rx.match(iban) is not None


class FastIbanRecognizer(IbanRecognizer):
    """``IbanRecognizer`` with compiled regexes (same name, same findings)."""

    FINDS_ONLY_THROUGH_PATTERNS = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("name", "IbanRecognizer")
        super().__init__(**kwargs)
        if self.BOSEOS:
            raise ValueError("the fast IBAN recognizer does not support exact_match")
        self._compiled = compile_patterns(self)

    def validate_result(self, pattern_text: str) -> bool | None:
        """Presidio's check: the mod-97 checksum, then the country's format (``None``
        when only the upper-cased text has it)."""
        try:
            iban = EntityRecognizer.sanitize_value(pattern_text, self.replacement_pairs)
            if _check_digits(iban) != iban[2:4]:
                return False
        except ValueError:
            return False
        if _formatted(iban):
            return True
        return None if _formatted(iban.upper()) else False

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for pattern, match in compiled_matches(text, self._compiled):
            start = match.start()
            for group in range(len(match.groups()), 0, -1):
                end = match.end(group) if match.end(group) > 0 else match.end()
                if end <= start:
                    continue
                valid = self.validate_result(text[start:end])
                score = pattern.score
                if valid is not None:
                    score = self.MAX_SCORE if valid else self.MIN_SCORE
                if score > self.MIN_SCORE:
                    results.append(self._result(pattern, start, end, score, valid))
                    break
        return results

    def _result(
        self, pattern: Any, start: int, end: int, score: float, valid: bool | None
    ) -> RecognizerResult:
        name = recognizer_name(self)
        return RecognizerResult(
            entity_type=self.supported_entities[0],
            start=start,
            end=end,
            score=score,
            analysis_explanation=PatternRecognizer.build_regex_explanation(
                name, pattern.name, pattern.regex, pattern.score,
                cast("bool", valid),  # None as Presidio passes it: not validated
                self.global_regex_flags or 0,
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
