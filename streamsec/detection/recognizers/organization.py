"""Organisation names by form: a legal or sector suffix ("Acme Widgets Inc.",
"Nordic Data Partners", "Smith & Sons") and partnership names ("Glover, Ruiz and
Armstrong"). NER finds many organisations; these forms it often splits or misses."""

from __future__ import annotations

from typing import Final

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE, word_alternation
from streamsec.detection.recognizers._gate import Gate, word_runs

__all__ = ["OrganizationRecognizer"]

_SUFFIXES: Final = (
    "Inc",
    "Inc.",
    "LLC",
    "L.L.C.",
    "Ltd",
    "Ltd.",
    "Limited",
    "GmbH",
    "AG",
    "SA",
    "S.A.",
    "SAS",
    "SARL",
    "BV",
    "B.V.",
    "NV",
    "N.V.",
    "AB",
    "ASA",
    "Oy",
    "Oyj",
    "A/S",
    "ApS",
    "S.p.A.",
    "SpA",
    "Srl",
    "S.r.l.",
    "PLC",
    "plc",
    "LLP",
    "LP",
    "Corp",
    "Corp.",
    "Corporation",
    "Co.",
    "Company",
    "Group",
    "Holdings",
    "Partners",
    "Associates",
    "Technologies",
    "Solutions",
    "Systems",
    "Labs",
    "Ventures",
    "Capital",
    "Consulting",
    "Industries",
    "Enterprises",
    "Foundation",
    "Bank",
    "Insurance",
    "Pharmaceuticals",
    "Sons",
    "Brothers",
    "Bros.",
    "University",
    "Institute",
    "Hospital",
    "Clinic",
)
_WORD = r"\p{Lu}[\p{L}\p{M}'\u2019&.\-]*+"
_NAME = r"\p{Lu}[\p{L}\p{M}'\u2019\-]*+"


class OrganizationRecognizer(FastPatternRecognizer):
    """Recognize organisation names by their suffix or partnership form."""

    ENTITY = "ORGANIZATION"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern(
            "name + organisation suffix",
            rf"(?<![\w])(?:{_WORD}[ \t]+){{1,4}}(?:(?:&|and)[ \t]+)"
            rf"?{word_alternation(_SUFFIXES)}(?![\w])",
            0.55,
        ),
        Pattern(
            "partnership",
            rf"(?<![\w]){_NAME},[ \t]+{_NAME},?[ \t]+(?:and|&)[ \t]+{_NAME}(?![\w])",
            0.5,
        ),
        Pattern(
            "X and Sons",
            rf"(?<![\w]){_NAME}[ \t]+(?:and|&)[ \t]+(?:Sons|Daughters|Partners|Associates|Co\."
            rf"?)(?![\w])",
            0.6,
        ),
    ]
    # Gates (see ._gate). The suffix, "and" or "&" always follows a [ \t]+.
    GATES = {
        # Factor: the _SP before the suffix, the suffix, the look-ahead.
        # The suffix's words are whole words (after [ \t]+, before a dot or (?![\w])).
        "name + organisation suffix": Gate(
            "f97849528ec9b191",
            words=word_runs(_SUFFIXES),
            needs=rf"[ \t]{word_alternation(_SUFFIXES)}(?![\w])",
        ),
        # Factor: [ \t]+, "and" or "&", [ \t]+, the first letter of the last name.
        "partnership": Gate("6939b4c432daa08b", needs=r"[ \t](?:and|&)[ \t]+\p{Lu}"),
        # Factor: [ \t]+, "and" or "&", [ \t]+ and the second word.
        "X and Sons": Gate(
            "84ea136ab0d37a5b",
            needs=r"[ \t](?:and|&)[ \t]+(?:Sons|Daughters|Partners|Associates|Co\.?)(?![\w])",
        ),
    }
