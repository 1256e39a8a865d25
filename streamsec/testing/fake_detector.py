"""A deterministic detector for tests: regexes plus exact known values, no spaCy."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from streamsec.classification.model import Finding
from streamsec.errors import DetectionError

__all__ = ["FakeDetector"]

_PATTERNS = (
    ("EMAIL_ADDRESS", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("US_SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("CREDIT_CARD", re.compile(r"\b(?:\d[ -]?){13,19}\b")),
    ("PHONE_NUMBER", re.compile(r"\+?\d{1,3}[ .-]\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b")),
)


class FakeDetector:
    """Finds emails, SSNs, card numbers and phone numbers by regex, and any exact
    ``known`` value (``{"Jane Roe": "PERSON"}``) wherever it occurs.

    ``fail_on``: a substring that makes ``detect`` raise, to test failure handling.
    ``calls`` counts ``detect`` calls, ``items_seen`` the items analysed and ``paths``
    the paths they came from.
    """

    def __init__(self, known: Mapping[str, str] | None = None, fail_on: str | None = None) -> None:
        self.known = dict(known or {})
        self.fail_on = fail_on
        self.calls = 0
        self.items_seen = 0
        self.paths: list[str] = []

    def detect(self, items: Sequence[tuple[str, str]]) -> list[tuple[Finding, ...]]:
        self.calls += 1
        self.items_seen += len(items)
        self.paths.extend(path for path, _ in items)
        out: list[tuple[Finding, ...]] = []
        for _path, text in items:
            if self.fail_on is not None and self.fail_on in text:
                raise DetectionError("fake detector asked to fail")
            found: list[Finding] = []
            for entity, pattern in _PATTERNS:
                found.extend(
                    Finding(entity, m.start(), m.end(), 0.9, "fake") for m in pattern.finditer(text)
                )
            for value, entity in self.known.items():
                start = text.find(value)
                while start >= 0:
                    found.append(Finding(entity, start, start + len(value), 0.85, "fake"))
                    start = text.find(value, start + len(value))
            out.append(_non_overlapping(found))
        return out


def _non_overlapping(found: list[Finding]) -> tuple[Finding, ...]:
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if not kept or f.start >= kept[-1].end:
            kept.append(f)
    return tuple(kept)
