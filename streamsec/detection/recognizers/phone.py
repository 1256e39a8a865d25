"""Phone numbers in international and national formats (grouped digits, ``+`` country
codes and E.164, ``(0)`` trunk prefixes, area codes in parentheses, extensions).
A regex with digit-count and shape validation finds the candidates (much faster
than matching every region with ``phonenumbers``, and it finds national formats
``phonenumbers`` does not know); ``phonenumbers`` then confirms a weak candidate
that starts with a trunk ``0`` as a number of one of the European regions below
(``030 123456``), which raises its score. ``+`` numbers, E.164 included, score
on their shape."""

from __future__ import annotations

from typing import Final

import phonenumbers
import regex
from presidio_analyzer import Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from streamsec.detection.recognizers._base import FastPatternRecognizer, match_patterns

__all__ = ["PhoneRecognizer"]

_SEP = r"[ .\-]"
_EXT = r"(?:[ ]?(?:x|ext\.?|extension)[ ]?\d{1,5})?"
_B = r"(?<![\w+/.\-])"
_E = r"(?![\w/]|[.\-]\d)"
_NATIONAL_REGIONS: Final = ("DE", "FR", "GB", "ES", "IT", "NL", "AT", "BE", "CH", "IE", "PT")
_NATIONAL_SCORE: Final = 0.55
_MIN_DIGITS: Final = 7
_MAX_DIGITS: Final = 15
_ZERO_START: Final = regex.compile(r"(?<![\w+.\-])0")
"""Where a candidate starting with a trunk ``0`` can begin (a superset of every
pattern's start)."""
_DATE_INSIDE: Final = regex.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}")
_NOT_PHONE: Final = (
    regex.compile(r"\d{4}-\d{1,2}-\d{1,2}"),  # ISO date
    regex.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"),  # numeric date
    regex.compile(r"\d{3}-\d{2}-\d{4}"),  # SSN shape
    regex.compile(r"\d{1,3}(?:\.\d{1,3}){3}"),  # IPv4
    regex.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"),  # amount
)


class PhoneRecognizer(FastPatternRecognizer):
    """Recognize phone numbers with a regex, validated by digit count and shape."""

    FINDS_ONLY_THROUGH_PATTERNS = True  # its analyze only adjusts match_patterns' results

    ENTITY = "PHONE_NUMBER"

    PATTERNS = [
        Pattern(
            "international",
            rf"{_B}\+\d{{1,3}}{_SEP}?(?:\(0\){_SEP}?)?(?:\(\d{{1,4}}\){_SEP}?)?\d{{1,8}}(?:{_SEP}\d{{1,8}}){{0,5}}{_EXT}{_E}",
            0.6,
        ),
        Pattern(
            "area code in parentheses",
            rf"{_B}(?:\d{{1,4}}{_SEP}?)?\(\d{{1,5}}\){_SEP}?\d{{2,5}}(?:{_SEP}\d{{1,5}}){{0,4}}{_EXT}{_E}",
            0.55,
        ),
        Pattern("E.164", rf"{_B}\+[1-9]\d{{6,14}}{_E}", 0.5),
        Pattern("grouped digits", rf"{_B}\d{{2,5}}(?:{_SEP}\d{{2,8}}){{1,5}}{_EXT}{_E}", 0.3),
        Pattern("NANP", rf"{_B}(?:1{_SEP})?\d{{3}}([.\-])\d{{3}}\1\d{{4}}{_EXT}{_E}", 0.5),
        Pattern("bare digits", r"(?<![\w+.\-])0?\d{9,11}(?![\w.\-])", 0.1),
    ]
    CONTEXT = [
        "phone",
        "telephone",
        "tel",
        "cell",
        "mobile",
        "call",
        "fax",
        "desk",
        "office",
        "contact",
        "reach",
        "answer",
        "text",
        "sms",
        "whatsapp",
        "dial",
        "landline",
        "number",
        "message",
        "ring",
    ]

    def load(self) -> None:
        """Load ``phonenumbers``' metadata of the regions now, not in a batch."""
        for region in _NATIONAL_REGIONS:
            example = phonenumbers.example_number(region)
            if example is not None:
                phonenumbers.is_valid_number(example)

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = match_patterns(self, text, self._compiled)
        for result in results:
            # Only a weak national-format candidate needs the check: the others
            # already score enough on their shape.
            if result.score < _NATIONAL_SCORE and text[result.start] == "0" and any(
                _valid(text[result.start : result.end], region) for region in _NATIONAL_REGIONS
            ):
                result.score = _NATIONAL_SCORE
        return results

    def raised_score(self, text: str) -> float | None:
        """:meth:`analyze` raises a candidate that starts with a ``0`` (every pattern
        starts after a non-word character other than ``+ . -``)."""
        return _NATIONAL_SCORE if _ZERO_START.search(text) else 0.0

    def invalidate_result(self, pattern_text: str) -> bool:
        digits = sum(ch.isdigit() for ch in pattern_text.split("x")[0].split("ext")[0])
        if not _MIN_DIGITS <= digits <= _MAX_DIGITS:
            return True
        if _DATE_INSIDE.search(pattern_text):
            return True
        return any(rx.fullmatch(pattern_text) for rx in _NOT_PHONE)


def _valid(number: str, region: str | None) -> bool:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)
