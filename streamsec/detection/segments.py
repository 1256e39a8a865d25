"""Which parts of a text NER has to read.

NER only adds names, places, organisations and dates, and only where a
capitalised word is left that no confident pattern match already covers. The
text is split into sentences and lines; runs of consecutive sentences that hold
such a word are the segments NER reads, each in one piece so it keeps its
context. Sentences without one ("Please call me at ..." once the phone number is
matched) are skipped.
"""

from __future__ import annotations

from typing import Final

import regex

from streamsec.detection.recognizers._fragments import STOP_WORDS

__all__ = ["has_candidate", "ner_segments", "sentences"]

_CANDIDATE: Final = regex.compile(
    r"(?<![\w'\u2019\-])\p{Lu}[\p{L}\p{M}'\u2019]*+(?:-\p{L}[\p{L}\p{M}'\u2019]*+)*+(?![\w\-])"
)
_NOT_CANDIDATES: Final = STOP_WORDS | {
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "dear",
    "yes",
    "no",
    "ok",
    "okay",
    "please",
}
_BOUNDARY: Final = regex.compile(
    r"[.!?]+[\"')\]\u2019\u201d]*[ \t]+(?=[\p{Lu}\d\"'(\u201c\u2018])|\n+"
)
_ABBREVIATION: Final = regex.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|St|Jr|Sr|No|Nr|Ave|Apt|Ste|Inc|Ltd|Co|Corp|vs|etc|e\.g|i\.e|"
    r"approx|Fig|Gen|Col|Capt|Lt|Sgt|Rev|Hon|Dept|Univ|Mt|Ft|Rd|Blvd|Ln)|\b\p{Lu})\.$"
)
_MAX_CANDIDATES_CHECKED: Final = 64
_OPENING: Final = regex.compile(r"[\s\"'\u201c\u2018(>*\-\u2022]*")
_NEXT_CAPITALISED: Final = regex.compile(r"[ \t]+\p{Lu}")


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence and line spans (abbreviations and initials do not end a sentence)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group()[0] != "\n" and _ABBREVIATION.search(
            text, max(0, match.start() - 8), match.start() + 1
        ):
            continue
        spans.append((start, match.start() + (0 if match.group()[0] == "\n" else 1)))
        start = match.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if e > s and not text[s:e].isspace()]


def has_candidate(
    text: str,
    start: int,
    end: int,
    covered: list[tuple[int, int]],
    *,
    strict: bool = False,
    common: frozenset[str] = frozenset(),
) -> bool:
    """A capitalised non-stop word in ``text[start:end]`` outside ``covered``.

    A dictionary word (in ``common``) opening the sentence does not count unless
    another capitalised word follows it ("Reach them on ..." vs "Mark Twain ...").
    ``strict`` (short structured values): a lone capitalised word inside a longer
    value is not enough; two adjacent ones, or a one-word value, are.
    """
    last_end = -2
    opening = _OPENING.match(text, start, end)
    first_at = opening.end() if opening is not None else start
    for count, match in enumerate(_CANDIDATE.finditer(text, start, end)):
        if count >= _MAX_CANDIDATES_CHECKED:
            return True
        word = match.group()
        folded = word.casefold()
        if folded in _NOT_CANDIDATES or (len(word) <= 3 and word.isupper()):
            continue
        m_start, m_end = match.span()
        if any(c_start <= m_start and m_end <= c_end for c_start, c_end in covered):
            continue
        if (
            m_start == first_at
            and folded in common
            and not _NEXT_CAPITALISED.match(text, m_end, end)
        ):
            continue
        if not strict or word == text.strip() or text[last_end:m_start].isspace():
            return True
        last_end = m_end
    return False


def ner_segments(
    text: str, covered: list[tuple[int, int]], common: frozenset[str] = frozenset()
) -> list[tuple[int, int]]:
    """Runs of consecutive sentences that hold a candidate word, as ``(start, end)``."""
    segments: list[tuple[int, int]] = []
    previous = False
    for start, end in sentences(text):
        if not has_candidate(text, start, end, covered, common=common):
            previous = False
            continue
        if previous:
            segments[-1] = (segments[-1][0], end)
        else:
            segments.append((start, end))
        previous = True
    return segments
