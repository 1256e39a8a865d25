"""Passwords written out in text: "password: hunter2", "pwd=...", "passcode is ..."."""

from __future__ import annotations

from presidio_analyzer import Pattern

from streamsec.detection.recognizers._base import FastPatternRecognizer

__all__ = ["PasswordRecognizer"]


class PasswordRecognizer(FastPatternRecognizer):
    """Recognize the secret that follows a password cue."""

    ENTITY = "PASSWORD"

    PATTERNS = [
        Pattern(
            "secret after a password cue",
            r"\b(?:(?:password|passwd|pwd|passcode|passphrase|pass[ ]?word|pin)"
            r"(?:[ ]is|[ ]was)?[ \t]*[:=][ \t]*|(?:password|passcode|passphrase)[ ]is[ \t]+)"
            r"[\"']?(?P<value>[^\s\"']{4,128})",
            0.9,
        ),
    ]
