"""A US social security number written without dashes right after its label
("SSN: 123456789"): nine bare digits are too weak alone, the label makes them one."""

from __future__ import annotations

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer

__all__ = ["SsnCueRecognizer"]


class SsnCueRecognizer(FastPatternRecognizer):
    """Recognize nine digits after an SSN label."""

    ENTITY = "US_SSN"

    PATTERNS = [
        Pattern(
            "digits after an SSN label",
            r"\b(?:ssn|social[ ]security(?:[ ]number|[ ]no\.?|[ ]#)?)[ \t]*(?:is[ \t]+)?[:#=]?"
            r"[ \t]*(?P<value>(?!000|666|9)\d{3}[ ]?(?!00)\d{2}[ ]?(?!0000)\d{4})(?![\d\-])",
            0.85,
        ),
    ]
