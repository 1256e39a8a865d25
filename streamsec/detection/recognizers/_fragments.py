"""Regex fragments shared by streamsec's pattern recognizers (``regex`` module syntax)."""

from __future__ import annotations

from typing import Final

import regex

__all__ = [
    "CAP_WORD",
    "CASE_SENSITIVE",
    "HOUSE_NUMBER",
    "MONTHS",
    "STOP_WORDS",
    "word_alternation",
    "words",
]

CASE_SENSITIVE: Final = regex.DOTALL | regex.MULTILINE
"""Flags for recognizers whose patterns rely on capitalisation."""

CAP_WORD: Final = r"\p{Lu}[\p{L}\p{M}'\u2019-]*+\.?"
"""A capitalised (or all-caps) word in any script, with an optional abbreviation dot."""

HOUSE_NUMBER: Final = r"\d{1,6}[A-Za-z]?"

MONTHS: Final = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)


def words(text: str) -> tuple[str, ...]:
    """A vocabulary written as one space-separated string."""
    return tuple(text.split())


def word_alternation(words: tuple[str, ...]) -> str:
    """A non-capturing alternation, longest first, each word escaped."""
    return "(?:" + "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS as SPACY_STOP_WORDS

    return frozenset(SPACY_STOP_WORDS)


STOP_WORDS: Final = _stop_words()
