"""Countries, US states, continents and cities from the GeoNames gazetteer.

Runs of capitalised words are looked up (longest first, up to four words). A
single-word city that starts a sentence or is an English stop word is not trusted
on its own (it needs a context word such as "in", "from", "city").
"""

from __future__ import annotations

from typing import Final

import regex
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from streamsec.detection.gazetteer import PlaceKind, place_names
from streamsec.detection.recognizers._base import recognizer_name
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE, STOP_WORDS

__all__ = ["LocationRecognizer"]

_WORD = r"\p{Lu}[\p{L}\p{M}'\u2019.-]*+"
_LINK = r"(?:[ \t]+(?:de|del|la|le|of|on|upon|am|an|der|sur|en|y|da|do|di|el|al)(?=[ \t]+\p{Lu}))?"
_RUN: Final = regex.compile(rf"(?<![\w@.]){_WORD}(?:{_LINK}[ \t]+{_WORD})*", CASE_SENSITIVE)
_TOKEN: Final = regex.compile(r"\S+")
_OPENERS: Final = " \t\"\u201c('\u2018"
_ENDERS: Final = ".!?:;\n"
_MAX_WORDS: Final = 4
_SCORES: Final = {PlaceKind.COUNTRY: 0.75, PlaceKind.REGION: 0.7, PlaceKind.CITY: 0.6}
_WEAK_SCORE: Final = 0.35


def _is_word(text: str, token: tuple[int, int]) -> bool:
    """A capitalised word (not an all-caps code) in the same run: part of a name."""
    word = text[token[0] : token[1]]
    return len(word) > 1 and not word.isupper()


class LocationRecognizer(LocalRecognizer):
    """Recognize place names with a gazetteer lookup."""

    CONTEXT: Final = [
        "in",
        "from",
        "city",
        "town",
        "country",
        "live",
        "lives",
        "born",
        "visit",
        "near",
        "travel",
        "flew",
        "moved",
        "located",
        "village",
        "region",
        "state",
    ]

    def __init__(
        self,
        context: list[str] | None = None,
        supported_language: str = "en",
        supported_entity: str = "LOCATION",
        name: str | None = None,
    ) -> None:
        super().__init__(
            supported_entities=[supported_entity],
            supported_language=supported_language,
            context=context or self.CONTEXT,
            name=name or type(self).__name__,
        )

    def load(self) -> None:
        place_names()

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        names = place_names()
        results: list[RecognizerResult] = []
        for run in _RUN.finditer(text):
            tokens = [
                (m.start() + run.start(), m.end() + run.start())
                for m in _TOKEN.finditer(run.group())
            ]
            i = 0
            while i < len(tokens):
                found = self._longest(text, tokens, i, names)
                if found is None:
                    i += 1
                    continue
                j, kind = found
                start, end = tokens[i][0], tokens[j - 1][1]
                if text[end - 1] == "." and not text[start : end - 1].count("."):
                    end -= 1
                score = _SCORES[kind]
                lone_city = kind is PlaceKind.CITY and j - i == 1
                next_to_word = (i > 0 and _is_word(text, tokens[i - 1])) or (
                    j < len(tokens) and _is_word(text, tokens[j])
                )
                if lone_city and (next_to_word or self._weak(text, start, end)):
                    score = _WEAK_SCORE
                results.append(self._result(start, end, score))
                i = j
        return results

    @staticmethod
    def _longest(
        text: str, tokens: list[tuple[int, int]], i: int, names: dict[str, PlaceKind]
    ) -> tuple[int, PlaceKind] | None:
        for j in range(min(len(tokens), i + _MAX_WORDS), i, -1):
            key = text[tokens[i][0] : tokens[j - 1][1]].rstrip(".,'\u2019").casefold()
            kind = names.get(key)
            if kind is not None:
                return j, kind
        return None

    @staticmethod
    def _weak(text: str, start: int, end: int) -> bool:
        word = text[start:end].strip(".").casefold()
        before = text[max(0, start - 8) : start].rstrip(_OPENERS)
        return (
            word in STOP_WORDS
            or (start < 8 and not before)
            or (bool(before) and before[-1] in _ENDERS)
        )

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        explanation = AnalysisExplanation(
            recognizer=recognizer_name(self), original_score=score, textual_explanation="gazetteer"
        )
        return RecognizerResult(
            entity_type=self.supported_entities[0],
            start=start,
            end=end,
            score=score,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: recognizer_name(self),
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
