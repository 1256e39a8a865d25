"""Organisation names by form: a legal or sector suffix ("Acme Widgets Inc.",
"Nordic Data Partners", "Smith & Sons") and partnership names ("Glover, Ruiz and
Armstrong"). NER finds many organisations; these forms it often splits or misses."""

from __future__ import annotations

from typing import Final

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE, word_alternation

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
