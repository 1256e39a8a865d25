"""What full detection said of one path's values, and the validators that prove a new
value of that path clean (see :mod:`streamsec.protection.compiled` for the rules)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from streamsec.records.paths import JsonValue

__all__ = ["LEARN_AFTER", "MAX_CLOSED", "MAX_CLOSED_CHARS", "MAX_PREFIXES", "PathVerdicts"]

LEARN_AFTER: Final = 16
MAX_CLOSED: Final = 16
MAX_CLOSED_CHARS: Final = 40
MAX_PREFIXES: Final = 8

_TIMESTAMP = re.compile(
    r"\d{4}-[01]\d-[0-3]\d[T ][0-2]\d:[0-5]\d(?::[0-6]\d(?:\.\d{1,9})?)?"
    r"(?:Z|[+-][0-2]\d:?[0-5]\d)?", re.ASCII,
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DECIMAL = re.compile(r"-?\d{1,4}\.\d{1,2}", re.ASCII)
_ID = re.compile(r"([A-Za-z][A-Za-z_-]{0,31}[-_])([0-9a-f]{1,16})", re.ASCII)
_SEGMENTED_ID = re.compile(r"([A-Za-z][A-Za-z0-9-]{0,31}-)([0-9a-f]{1,16})", re.ASCII)
_DIGIT_RUN = re.compile(r"\d{7}", re.ASCII)


def _id_prefix(value: str) -> str | None:
    """The prefix of an id, else None. An id is a prefix, then a short lowercase
    hex/digit tail with a digit and no run of more than 6 digits (no separator in it);
    the prefix is either letters and separators (``pay_``, ``order-``), or segments of
    letters and digits each ending in ``-`` where every segment holds a letter and no
    run of more than 6 digits (``tp-9dd575-``, ``eu1-orders-``). So the tail is the only
    group of digits that is not glued to a letter: no two digit groups meet at a
    separator (a phone, SSN, card, date or postcode+4 needs two), no group has more
    than 6 digits, and ``-`` is no word character, so the tail is a word of its own."""
    match = _ID.fullmatch(value)
    if match is None:
        match = _SEGMENTED_ID.fullmatch(value)
        if match is None or not _segmented_prefix(match.group(1)):
            return None
    tail = match.group(2)
    if tail.isalpha() or _DIGIT_RUN.search(tail):
        return None
    return match.group(1)


def _segmented_prefix(prefix: str) -> bool:
    """Every ``-``-separated segment is non-empty and holds a letter; no 7-digit run."""
    segments = prefix[:-1].split("-")
    return all(seg and not seg.isdigit() for seg in segments) and not _DIGIT_RUN.search(prefix)


def _uuid(value: str) -> object:
    """A canonical UUID with no run of more than 6 digits (dashes aside): no card,
    phone or SSN number hides in it."""
    return _UUID.fullmatch(value) and not _DIGIT_RUN.search(value.replace("-", ""))


def _epoch(value: int) -> bool:
    return 1_000_000_000 <= value < 2_000_000_000 or 1_000_000_000_000 <= value < 2_000_000_000_000


_STRING_KINDS: Final[tuple[tuple[str, Callable[[str], object]], ...]] = (
    ("timestamp", _TIMESTAMP.fullmatch),
    ("uuid", _uuid),
    ("decimal", _DECIMAL.fullmatch),
)


_KEYED: Final = hashlib.blake2b(key=os.urandom(16), digest_size=16)


def _digest(value: str) -> bytes:
    h = _KEYED.copy()  # keyed once: copying is cheaper than keying again
    h.update(value.encode("utf-8", "surrogatepass"))
    return h.digest()


@dataclass(slots=True)
class PathVerdicts:
    """What full detection said of one path's values (see the module doc). A free-text
    path never skips; epoch integers skip only where the name says benign (ts, count...):
    elsewhere a 10-digit number may be read as, say, an NHS number."""

    free_text: bool = False
    benign_name: bool = False
    dirty: bool = False
    clean: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    closed: dict[bytes, None] | None = field(default_factory=dict)
    prefixes: dict[bytes, None] | None = field(default_factory=dict)

    def skips(self, value: JsonValue) -> bool:
        """True when ``value`` provably holds nothing to find (rules 1 and 2)."""
        if self.dirty or self.clean < LEARN_AFTER:
            return False
        kinds = self.kinds
        if type(value) is int:
            return (self.benign_name and not self.free_text
                    and kinds.get("epoch", 0) >= LEARN_AFTER and _epoch(value))
        if type(value) is not str:
            return False
        if self.closed is not None and len(value) <= MAX_CLOSED_CHARS and (
            _digest(value) in self.closed
        ):
            return True
        if self.free_text:  # free text reads a date-time as DATE_TIME, an id with context
            return kinds.get("decimal", 0) >= LEARN_AFTER and _DECIMAL.fullmatch(value) is not None
        for name, check in _STRING_KINDS:
            if kinds.get(name, 0) >= LEARN_AFTER and check(value):
                return True
        if kinds.get("id", 0) >= LEARN_AFTER and self.prefixes:
            prefix = _id_prefix(value)
            return prefix is not None and _digest(prefix) in self.prefixes
        return False

    def learn(self, value: JsonValue, found: bool) -> None:
        """One full detection of ``value`` at this path."""
        if found:
            self.dirty = True
            self.kinds.clear()
            self.closed = self.prefixes = None
            return
        if self.dirty:
            return
        self.clean += 1
        if type(value) is int:
            if _epoch(value):
                self.kinds["epoch"] = self.kinds.get("epoch", 0) + 1
            return
        if type(value) is not str:
            return
        if self.closed is not None:
            digest = _digest(value) if len(value) <= MAX_CLOSED_CHARS else None
            if digest is not None and digest in self.closed:
                pass
            elif digest is not None and len(self.closed) < MAX_CLOSED:
                self.closed[digest] = None
            else:
                self.closed = None  # not a small closed set
        for name, check in _STRING_KINDS:
            if check(value):
                self.kinds[name] = self.kinds.get(name, 0) + 1
        prefix = _id_prefix(value)
        if prefix is not None and self.prefixes is not None:
            self.kinds["id"] = self.kinds.get("id", 0) + 1
            digest = _digest(prefix)
            if digest not in self.prefixes:
                if len(self.prefixes) < MAX_PREFIXES:
                    self.prefixes[digest] = None
                else:
                    self.prefixes = None
