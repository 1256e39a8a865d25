r"""Gates: cheap conditions that every match of one pattern satisfies, so the
pattern's full (backtracking) regex runs only where it can match at all.

A :class:`Gate` belongs to one pattern, pinned by :func:`fingerprint` of the
pattern's regex and flags (a gate proven for another regex is never applied:
the pattern then runs in full). It has up to two parts, each compiled with the
pattern's own flags (so case folding and Unicode classes behave alike):

* ``needs``: a regex found somewhere in every text the pattern matches. It must
  be a *relaxation of a factor* of the pattern: a piece every match runs through
  (a sequence of consecutive elements, in every alternative), with elements only
  widened (a larger class, fewer repeats, a look-around dropped). No ``needs``
  match: no pattern match, the pattern is skipped.
* ``words``: for an ASCII text only (other texts skip this part), word
  alternatives, each a tuple of the maximal ``\w`` runs (lower-cased) that every
  match has as whole words of the text: the pattern runs only if all runs of one
  alternative are words of the text. One word set per text serves every gate
  (:func:`ascii_words`). Build it with :func:`word_runs`, which also checks that
  a non-ASCII entry cannot match ASCII text at all (no case variant in ASCII).
* ``starts``: a regex whose matches (as ``finditer`` yields them, each at least
  one character long) cover every position where the pattern can start a match.
  The pattern is then tried (``match``) only at those positions, in order, which
  yields exactly what ``finditer`` yields: ``finditer`` returns, from each
  position on, the leftmost start at which ``match`` succeeds, and a pattern
  cannot start anywhere else. An empty match falls back to ``finditer``.

On an ASCII text, ``needs`` and ``starts`` run as compiled by the standard library's
``re`` when it can compile them with the same flags (:func:`_ascii_twin`): the same
spans there, and a lookbehind-and-lookahead ``starts`` such as the URL gate's runs in a
third of the time.

Every gate has its reasoning next to it, and ``tests/unit/detection/
test_gates.py`` checks over the project's corpora and hostile strings that the
matches with and without the gates are the same.
"""

from __future__ import annotations

import hashlib
import re
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import regex

__all__ = ["CompiledGate", "Gate", "ascii_words", "fingerprint", "word_runs"]

_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")})
_ASCII_LETTERS = string.ascii_letters
_LAST = threading.local()


def ascii_words(text: str) -> frozenset[str] | None:
    r"""The maximal ``\w`` runs of an ASCII text, lower-cased (None for any other
    text). The last text's set is kept per thread: every gate reads the same one."""
    cache = _LAST.__dict__
    if cache.get("text") is text:
        words: frozenset[str] | None = cache["words"]
        return words
    words = frozenset(text.lower().translate(_NON_WORD).split()) if text.isascii() else None
    cache["text"], cache["words"] = text, words
    return words


def word_runs(entries: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    r"""Each entry of a pattern's word alternation as its lower-cased ``\w`` runs. An
    entry with a character outside ASCII is left out only if that character cannot
    match any ASCII letter even case-insensitively (so it never matches ASCII text);
    otherwise this raises: the gate would not hold."""
    out: list[tuple[str, ...]] = []
    for entry in entries:
        if entry.isascii():
            runs = tuple(entry.lower().translate(_NON_WORD).split())
            if not runs:
                raise ValueError(f"no word in {entry!r}")
            out.append(runs)
            continue
        for ch in entry:
            if not ch.isascii() and any(
                regex.fullmatch(regex.escape(ch), a, regex.IGNORECASE) for a in _ASCII_LETTERS
            ):
                raise ValueError(f"{entry!r} can match ASCII text")
    return tuple(dict.fromkeys(out))


def fingerprint(pattern: str, flags: int) -> str:
    """The identity of a pattern a gate was proven for (its regex and its flags)."""
    return hashlib.sha256(f"{int(flags)}\x00{pattern}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Gate:
    proven_for: str
    needs: str | None = None
    starts: str | None = None
    words: tuple[tuple[str, ...], ...] | None = None

    def compile(self, pattern: str, flags: int) -> CompiledGate | None:
        """The compiled gate, or None when it was proven for another pattern."""
        if fingerprint(pattern, flags) != self.proven_for:
            return None
        return CompiledGate(
            regex.compile(self.needs, flags) if self.needs else None,
            regex.compile(self.starts, flags) if self.starts else None,
            self.words,
            _ascii_twin(self.needs, flags),
            _ascii_twin(self.starts, flags),
        )


_RE_FLAGS: Final = (
    (regex.IGNORECASE, re.IGNORECASE), (regex.MULTILINE, re.MULTILINE),
    (regex.DOTALL, re.DOTALL), (regex.UNICODE, 0), (regex.VERSION0, 0),
)


def _ascii_twin(source: str | None, flags: int) -> Any:
    """The same regex compiled by the standard library's ``re``, for ASCII texts
    (3-4x faster than ``regex`` there: the URL gate's ``starts`` took 23 us on a
    160-character ticket, 6.8 us with ``re``); None when ``re`` cannot compile it or
    a flag has no ``re`` twin. ``regex`` in version 0 is ``re``-compatible, and on an
    ASCII text no Unicode case folding or class applies."""
    if source is None:
        return None
    twin = 0
    left = int(flags)
    for theirs, ours in _RE_FLAGS:
        if left & theirs:
            twin |= ours
            left &= ~theirs
    if left:
        return None
    try:
        return re.compile(source, twin)
    except re.error:
        return None


class CompiledGate:
    __slots__ = ("ascii_needs", "ascii_starts", "needs", "several", "single", "starts")

    def __init__(
        self, needs: Any, starts: Any, words: tuple[tuple[str, ...], ...] | None = None,
        ascii_needs: Any = None, ascii_starts: Any = None,
    ) -> None:
        self.needs = needs
        self.starts = starts
        self.ascii_needs = ascii_needs if ascii_needs is not None else needs
        self.ascii_starts = ascii_starts if ascii_starts is not None else starts
        self.single: frozenset[str] | None = None
        self.several: tuple[frozenset[str], ...] = ()
        if words is not None:
            self.single = frozenset(runs[0] for runs in words if len(runs) == 1)
            self.several = tuple(frozenset(runs) for runs in words if len(runs) > 1)

    def _no_word(self, text: str) -> bool:
        words = ascii_words(text)
        if words is None or self.single is None:
            return False
        if not words.isdisjoint(self.single):
            return False
        return not any(runs <= words for runs in self.several)

    def finditer(self, rx: Any, text: str) -> Iterable[Any]:
        """What ``rx.finditer(text)`` yields."""
        if self.single is not None and self._no_word(text):
            return ()
        ascii = text.isascii()
        needs = self.ascii_needs if ascii else self.needs
        if needs is not None and needs.search(text) is None:
            return ()
        starts = self.ascii_starts if ascii else self.starts
        if starts is None:
            return rx.finditer(text)  # type: ignore[no-any-return]
        found: list[Any] = []
        pos = 0
        for candidate in starts.finditer(text):
            at = max(candidate.start(), pos)
            end = max(candidate.end(), candidate.start() + 1)
            while at < end:
                match = rx.match(text, at)
                if match is None:
                    at += 1
                    continue
                if match.end() == at:
                    return list(rx.finditer(text))  # an empty match: finditer's own rules
                found.append(match)
                pos = at = match.end()
        return found
