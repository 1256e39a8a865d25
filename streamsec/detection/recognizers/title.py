"""Honorific titles (Mr., Mrs., Dr., Prof., ...) directly before a capitalised name."""

from __future__ import annotations

from typing import Final

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._fragments import CASE_SENSITIVE, word_alternation

__all__ = ["TitleRecognizer"]

_TITLES: Final = (
    "Mr",
    "Mrs",
    "Ms",
    "Miss",
    "Mx",
    "Dr",
    "Prof",
    "Sir",
    "Dame",
    "Lady",
    "Lord",
    "Rev",
    "Fr",
    "Hon",
    "Capt",
    "Col",
    "Gen",
    "Lt",
    "Sgt",
    "Madam",
    "Mme",
    "Mlle",
    "Herr",
    "Frau",
    "Sra",
    "Srta",
    "Sr",
    "Señor",
    "Señora",
    "Signor",
    "Signora",
    "Dott",
    "Ing",
)


class TitleRecognizer(FastPatternRecognizer):
    """Recognize honorifics that precede a name."""

    ENTITY = "TITLE"
    FLAGS = CASE_SENSITIVE

    PATTERNS = [
        Pattern(
            "honorific before a name",
            rf"(?<![\w.]){word_alternation(_TITLES)}(?:\.|\b)(?=[ \t]+\p{{Lu}}\p{{L}})",
            0.6,
        ),
        Pattern(
            "lower-case honorific before a name",
            r"(?<![\w.])(?:mr|mrs|ms|dr|prof)\.(?=[ \t]+\p{L}{2})",
            0.55,
        ),
    ]
