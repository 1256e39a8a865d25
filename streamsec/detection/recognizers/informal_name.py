"""Names written in lower case in chat and informal text, after an introduction:
"hi this is maria lopez, locked out again", "hey its jan de vries here",
"name's anna becker", "hello, lucy van dijk speaking".

The name must be two or three words (with name particles such as ``van``/``de``)
that end the clause (a comma, a bracket, "here", "speaking", ...), none of them an
English stop word or an -ing form ("this is getting ridiculous," is no name).
"""

from __future__ import annotations

from typing import Final

from presidio_analyzer import Pattern
from spacy.lang.en.stop_words import STOP_WORDS

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE

__all__ = ["InformalNameRecognizer"]

_PARTICLES: Final = frozenset(
    [
        "van",
        "von",
        "de",
        "der",
        "den",
        "da",
        "di",
        "del",
        "della",
        "du",
        "le",
        "la",
        "dos",
        "das",
        "ter",
        "ten",
        "bin",
        "al",
    ]
)
_END = r"(?:here|speaking|calling)"
_CUE = r"(?:this|its|it's|is|im|i'm|name's|names|hey|hi|hello)"
_WORD = rf"(?!{_END}\b|{_CUE}\b)\p{{Ll}}[\p{{Ll}}\p{{M}}'\u2019\-]+"
_PARTICLE = r"(?:van|von|de|der|den|da|di|del|della|du|le|la|dos|das|ter|ten|bin|al)"
_NAME = rf"{_WORD}(?:[ \t]+{_PARTICLE})*(?:[ \t]+{_WORD}){{1,2}}"


_NOT_NAMES: Final = frozenset(
    [
        "team",
        "support",
        "everyone",
        "everybody",
        "guys",
        "folks",
        "there",
        "customer",
        "service",
        "account",
        "order",
        "help",
        "sorry",
        "thanks",
        "thank",
        "please",
        "urgent",
        "waiting",
    ]
)


class InformalNameRecognizer(FastPatternRecognizer):
    """Recognize a lower-case full name after an introduction in informal text."""

    ENTITY = "PERSON"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern(
            "lower-case name after an introduction",
            r"(?:^|(?<=[\s,.!?(]))(?i:this[ \t]+is|name'?s|name[ \t]+is|hello,|hi,|hey,|pt\.?|"
            rf"patient)[ \t]+(?P<value>{_NAME})(?=[ \t]*(?:[,.;:!?()]|$)|[ \t]+{_END}\b)",
            0.6,
        ),
        Pattern(
            "lower-case name before 'here' / 'speaking'",
            r"(?:^|(?<=[\s,.!?(]))(?i:it'?s|i[ \t]+am|i'?m)[ \t]+"
            rf"(?P<value>{_NAME})(?=[ \t]+{_END}\b)",
            0.6,
        ),
    ]

    def validate_result(self, pattern_text: str) -> bool | None:
        words = [w for w in pattern_text.split() if w not in _PARTICLES]
        if any(w in STOP_WORDS or w in _NOT_NAMES or len(w) < 2 for w in words):
            return False
        if any(w.endswith("ing") and len(w) > 5 for w in words):
            return False  # verbs: "getting annoyed"
        return None
