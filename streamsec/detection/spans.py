"""From raw recognizer results to findings: canonical types, filters, no overlaps.

* Types are made canonical (``URL`` without scheme or path becomes ``DOMAIN_NAME``).
* Vague NER dates ("next week", "the weekend", "8+ years") and bare acronyms tagged
  as organisations ("ATM", "IBAN") are dropped; NER spans are cut at a line break.
* Overlapping spans of one type are merged; then spans of different types are
  resolved by score and length, and a weaker span that only partly overlaps a
  stronger one keeps its non-overlapping part (so nothing detected is left
  unprotected).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import regex
from presidio_analyzer import RecognizerResult

from streamsec.classification.model import Finding
from streamsec.detection.entities import NER_TYPES, canonical
from streamsec.detection.recognizers._fragments import MONTHS

__all__ = ["Span", "resolve", "spans_from_results"]

_MONTH: Final = regex.compile(rf"\b(?:{MONTHS})\b", regex.IGNORECASE)
_DATE_DIGITS: Final = regex.compile(
    r"\b(?:\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{4}[-/.]\d{1,2}(?:[-/.]\d{1,2})?|\d{1,2}[-/.]\d{4}"
    r"|\d{1,2}:\d{2}|(?:1[5-9]|20)\d\d)\b|\d(?:st|nd|rd|th)\b"
)
_VAGUE: Final = regex.compile(
    r"\b(?:years?|yrs?|months?|weeks?|days?|hours?|minutes?|decades?|centur(?:y|ies)|ago|old|"
    r"morning|evening|night|tonight|today|tomorrow|yesterday|weekend)\b|\d0'?s\b",
    regex.IGNORECASE,
)
_WEEKDAY: Final = regex.compile(r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day", regex.IGNORECASE)
_TIME_AFTER: Final = regex.compile(
    r"(?:[ T]|,[ ]|[ ]at[ ])\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[ ]?[AaPp]\.?[Mm]\.?)?"
)
_ACRONYM: Final = regex.compile(r"\p{Lu}{2,5}")
_EDGE: Final = " \t\r\n,;:-\u2013\u2014()[]{}\"'\u2019\u201c\u201d"
_EDGE_START: Final = _EDGE + "."
_OPENERS: Final = {"(": ")", "[": "]", "{": "}"}
_CLOSERS: Final = {")": "(", "]": "[", "}": "{"}
_DIGIT_TOKEN: Final = regex.compile(r"\S*\d\S*")


@dataclass(slots=True)
class Span:
    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str


def _keep(text: str, span: Span) -> bool:
    value = text[span.start : span.end]
    if span.entity_type == "DATE_TIME":
        if _MONTH.search(value) or _WEEKDAY.fullmatch(value):
            return True
        return _DATE_DIGITS.search(value) is not None and _VAGUE.search(value) is None
    if span.entity_type == "ORGANIZATION":
        return _ACRONYM.fullmatch(value) is None
    return any(ch.isalnum() for ch in value)


def _retype(text: str, entity: str, start: int, end: int) -> str:
    if entity == "URL":
        value = text[start:end]
        if "://" not in value and "/" not in value.rstrip("/"):
            return "DOMAIN_NAME"
    return entity


def spans_from_results(text: str, results: Iterable[RecognizerResult]) -> list[Span]:
    spans: list[Span] = []
    for result in results:
        entity = canonical(result.entity_type)
        start, end = result.start, result.end
        if entity in NER_TYPES and entity != "DATE_TIME":
            cut = text.find("\n", start, end)
            if cut > start:
                end = cut
            start, end = _strip_digit_tokens(text, start, end)
        start, end = _trim(text, start, end)
        if end <= start:
            continue
        if entity == "DATE_TIME":
            time_after = _TIME_AFTER.match(text, end)
            if time_after is not None:
                end = time_after.end()
        name = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, "")
        span = Span(_retype(text, entity, start, end), start, end, result.score, str(name))
        if _keep(text, span):
            spans.append(span)
    return spans


def _strip_digit_tokens(text: str, start: int, end: int) -> tuple[int, int]:
    """Names, places and organisations do not start or end with an id or a number."""
    tokens = [(m.start(), m.end()) for m in regex.finditer(r"\S+", text[start:end])]
    while tokens and _DIGIT_TOKEN.fullmatch(text, start + tokens[0][0], start + tokens[0][1]):
        tokens.pop(0)
    while tokens and _DIGIT_TOKEN.fullmatch(text, start + tokens[-1][0], start + tokens[-1][1]):
        tokens.pop()
    if not tokens:
        return start, start
    return start + tokens[0][0], start + tokens[-1][1]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Strip separators at the edges, keeping a bracket whose partner is inside."""
    while start < end and text[start] in _EDGE_START:
        if text[start] in _OPENERS and _OPENERS[text[start]] in text[start:end]:
            break
        start += 1
    while end > start and text[end - 1] in _EDGE:
        if text[end - 1] in _CLOSERS and _CLOSERS[text[end - 1]] in text[start:end]:
            break
        end -= 1
    return start, end


def _merge_same_type(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.entity_type, s.start)):
        last = merged[-1] if merged else None
        if last is not None and last.entity_type == span.entity_type and span.start < last.end:
            last.end = max(last.end, span.end)
            if span.score > last.score:
                last.score, last.recognizer = span.score, span.recognizer
        else:
            merged.append(Span(span.entity_type, span.start, span.end, span.score, span.recognizer))
    return merged


def resolve(text: str, spans: list[Span]) -> tuple[Finding, ...]:
    """Non-overlapping findings sorted by start; stronger spans win overlaps.

    O(n log n) in the number of spans: the spans taken so far are kept as sorted,
    disjoint intervals, and each new span only visits the ones it overlaps."""
    taken = _Taken()
    out: list[Span] = []
    for span in sorted(_merge_same_type(spans), key=lambda s: (-s.score, s.start - s.end)):
        for start, end in taken.free_parts(span.start, span.end):
            start, end = _trim(text, start, end)
            if end > start and any(ch.isalnum() for ch in text[start:end]):
                out.append(Span(span.entity_type, start, end, span.score, span.recognizer))
                taken.add(start, end)
    out.sort(key=lambda s: s.start)
    return tuple(
        Finding(s.entity_type, s.start, s.end, round(s.score, 4), s.recognizer) for s in out
    )


class _Taken:
    """Disjoint intervals, sorted by start (bisect, no scan of the whole set)."""

    __slots__ = ("_ends", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def free_parts(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of ``[start, end)`` that no taken interval covers."""
        starts, ends = self._starts, self._ends
        i = bisect.bisect_right(starts, start) - 1
        if i < 0 or ends[i] <= start:
            i += 1
        parts: list[tuple[int, int]] = []
        cursor = start
        while i < len(starts) and starts[i] < end:
            if starts[i] > cursor:
                parts.append((cursor, starts[i]))
            cursor = max(cursor, ends[i])
            i += 1
        if cursor < end:
            parts.append((cursor, end))
        return parts

    def add(self, start: int, end: int) -> None:
        """Add a free part (it overlaps nothing taken)."""
        i = bisect.bisect_left(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)
