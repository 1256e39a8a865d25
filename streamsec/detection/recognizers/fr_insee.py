"""The French social security number (NIR, "numéro INSEE"): 13 digits and a two-digit
key (97 - the number mod 97), Corsican departments 2A/2B included, spaced or not."""

from __future__ import annotations

from typing import Final

import regex
from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer

__all__ = ["FrInseeRecognizer"]

_NOT_DIGITS: Final = regex.compile(r"[^0-9AB]")


class FrInseeRecognizer(FastPatternRecognizer):
    """Recognize a NIR whose key checks."""

    ENTITY = "FR_INSEE"

    PATTERNS = [
        Pattern(
            "NIR",
            r"(?<![\w\-])[12][ ]?\d{2}[ ]?(?:0[1-9]|1[0-2]|[2-9]\d)[ ]?(?:\d{2}|2[AB])[ ]?\d{3}"
            r"[ ]?\d{3}[ ]?\d{2}(?![\w\-])",
            0.5,
        ),
    ]
    CONTEXT = ["insee", "nir", "sécurité sociale", "securite sociale", "social security"]

    def validate_result(self, pattern_text: str) -> bool | None:
        raw = _NOT_DIGITS.sub("", pattern_text.upper())
        body, key = raw[:13], raw[13:]
        if len(raw) != 15:
            return False
        number = int(body.replace("2A", "19").replace("2B", "18"))
        return 97 - number % 97 == int(key)
