"""Card numbers beyond Presidio's credit-card recognizer.

* Any Luhn-valid 13-19 digit number with a card-network prefix (including the
  Mastercard 2221-2720 range Presidio's pattern lacks) is a card number.
* A 12-19 digit number right next to "card", "credit", "cc", ... is a card number
  even when its checksum fails (typos, test data, truncated copies): failing closed.
"""

from __future__ import annotations

from typing import Final

import regex
from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer

__all__ = ["CardNumberRecognizer"]


_NETWORK_PREFIX: Final = regex.compile(
    r"4|5[1-5]|2(?:2(?:2[1-9]|[3-9]\d)|[3-6]\d\d|7(?:[01]\d|20))|3[47]|3(?:0[0-5]|[68])|6(?:011|5|4[4-9]|22)|35"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


class CardNumberRecognizer(FastPatternRecognizer):
    """Recognize 12-19 digit numbers that context calls a card number."""

    ENTITY = "CREDIT_CARD"

    PATTERNS = [
        Pattern(
            "12-19 digits",
            r"(?<![\w.\-])(?:\d{4}[ -]){2,3}\d{4}(?:[ -]?\d{1,3})?(?![\w\-])|(?<![\w.\-])\d"
            r"{12,19}(?![\w\-])",
            0.2,
        ),
    ]
    CONTEXT = [
        "card",
        "credit",
        "debit",
        "cc",
        "visa",
        "mastercard",
        "amex",
        "discover",
        "maestro",
        "pan",
        "charge",
    ]

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = "".join(ch for ch in pattern_text if ch.isdigit())
        if 13 <= len(digits) <= 19 and _NETWORK_PREFIX.match(digits) and luhn_valid(digits):
            return True
        return None
