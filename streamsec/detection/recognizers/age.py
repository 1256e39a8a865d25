"""Ages: "turned 60", "aged 34", "age: 34", "65-year-old", "31 y/o", "46 years old"."""

from __future__ import annotations

from typing import Final

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer

__all__ = ["AgeRecognizer"]

_MAX_AGE: Final = 130


class AgeRecognizer(FastPatternRecognizer):
    """Recognize a person's age (the number only)."""

    ENTITY = "AGE"

    PATTERNS = [
        Pattern(
            "after turn/aged/age",
            r"\b(?:turn(?:ed|s|ing)?|aged|age(?:[ ]of|[ ]is|:)?|i'?m|i[ ]am)[ \t]+(?P<value>\d"
            r"{1,3})\b"
            r"(?![.,]\d|[ ]?(?:%|percent|times|minutes|hours|days|weeks|months|euros?|dollars|"
            r"usd|eur))",
            0.55,
        ),
        Pattern(
            "before years old",
            r"\b\d{1,3}(?=(?:[ -](?:years?|yrs?)[ -]old\b|[ ]?y/?o\b|[ ]?yrs?[ ]old\b))",
            0.65,
        ),
    ]
    CONTEXT = ["age", "old", "birthday", "turn", "aged", "born"]

    def invalidate_result(self, pattern_text: str) -> bool:
        return int(pattern_text) > _MAX_AGE
