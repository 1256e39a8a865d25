"""Cheap features of a text, computed once, that decide which recognizers can match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import regex

from streamsec.frozen import quick_init

__all__ = ["TextFeatures", "features_of"]

_PASSWORD_CUE: Final = regex.compile(r"pass|pwd|\bpin\b", regex.IGNORECASE)


@quick_init
@dataclass(frozen=True, slots=True)
class TextFeatures:
    length: int
    digits: int
    letters: int
    upper: int
    words: int
    at: bool
    dot: bool
    colon: bool
    slash: bool
    dash: bool
    hash: bool
    ascii: bool
    lines: int
    password_cue: bool


_ASCII_DIGITS: Final = b"0123456789"
_ASCII_UPPER: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_LETTERS: Final = _ASCII_UPPER + _ASCII_UPPER.lower()


def _counts(text: str) -> tuple[int, int, int]:
    """(digits, letters, upper): ``str.isdigit``, else ``isalpha``, and ``isupper``
    among those. ASCII text (where those are exactly the ranges 0-9, a-z, A-Z) is
    counted by ``bytes.translate`` deletions in C instead of a loop per character."""
    if text.isascii():
        raw = text.encode("ascii")
        size = len(raw)
        return (
            size - len(raw.translate(None, _ASCII_DIGITS)),
            size - len(raw.translate(None, _ASCII_LETTERS)),
            size - len(raw.translate(None, _ASCII_UPPER)),
        )
    digits = letters = upper = 0
    for ch in text:
        if ch.isdigit():
            digits += 1
        elif ch.isalpha():
            letters += 1
            if ch.isupper():
                upper += 1
    return digits, letters, upper


def features_of(text: str) -> TextFeatures:
    digits, letters, upper = _counts(text)
    return TextFeatures(
        length=len(text),
        digits=digits,
        letters=letters,
        upper=upper,
        words=len(text.split()),
        at="@" in text,
        dot="." in text,
        colon=":" in text,
        slash="/" in text,
        dash="-" in text,
        hash="#" in text,
        ascii=text.isascii(),
        lines=text.count("\n") + 1,
        password_cue=_PASSWORD_CUE.search(text) is not None,
    )
