"""Names written in lower case in chat and informal text, after an introduction:
"hi this is maria lopez, locked out again", "hey its jan de vries here",
"name's anna becker", "hello, lucy van dijk speaking".

The name must be two or three words (with name particles such as ``van``/``de``)
that end the clause (a comma, a bracket, "here", "speaking", ...), none of them an
English stop word, and not all of them English dictionary words ("this is really
annoying," is no name).
"""

from __future__ import annotations

from typing import Final

from presidio_analyzer import Pattern
from spacy.lang.en.stop_words import STOP_WORDS

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE

__all__ = ["InformalNameRecognizer"]

_PARTICLES: Final = frozenset(
    "van von de der den da di del della du le la dos das ter ten bin al".split()
)
_WORD = r"\p{Ll}[\p{Ll}\p{M}'\u2019\-]+"
_PARTICLE = r"(?:van|von|de|der|den|da|di|del|della|du|le|la|dos|das|ter|ten|bin|al)"


def _common_words() -> frozenset[str]:
    from streamsec.detection.analyzer import common_words

    return common_words()


class InformalNameRecognizer(FastPatternRecognizer):
    """Recognize a lower-case full name after an introduction in informal text."""

    ENTITY = "PERSON"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern(
            "lower-case name after an introduction",
            r"(?:^|(?<=[\s,.!?(]))(?i:this[ \t]+is|it'?s|its|i[ \t]+am|i'?m|name'?s|name[ \t]+is|"
            r"hello,?|hi,?|hey,?|pt\.?|patient)[ \t]+"
            rf"(?P<value>{_WORD}(?:[ \t]+{_PARTICLE})*(?:[ \t]+{_WORD}){{1,2}})"
            r"(?=[ \t]*(?:[,.;:!?()]|$)|[ \t]+(?:here|speaking|again|from|calling)\b)",
            0.6,
        ),
    ]

    def validate_result(self, pattern_text: str) -> bool | None:
        words = [w for w in pattern_text.split() if w not in _PARTICLES]
        if any(w in STOP_WORDS or len(w) < 2 for w in words):
            return False
        common = _common_words()
        if common and all(w in common for w in words):
            return False
        return None
