"""Tokenizer cache entries for dictionary words, kept across spaCy's memory zones.

spaCy's tokenizer remembers how it split each whitespace-delimited chunk of a text,
but never inside a memory zone (``Tokenizer._save_cached`` returns early there),
and the batch engine reads every text inside one (:mod:`streamsec.detection.analyzer`).
So a chunk such as ``charged`` or ``Please`` was split with the prefix, suffix and
infix expressions again in every batch, and its lexeme made again: a free-text
ticket took about 250 us to tokenize against 10 us with its chunks cached.

:class:`ChunkCache` learns such chunks between zones. A chunk read inside a zone is
a candidate when, without its outer punctuation, it is a dictionary word or nothing
(:class:`Dictionary`: the words of the model's lemmatizer index, their regular
inflections by its own rules, and the stop words). After the
zone, it is tokenized once in a zone of its own; it is learned when each of its
tokens is a dictionary word, a stop word, punctuation or space, *and* a string the
model's string store already held outside any zone. Learning tokenizes it once
outside a zone, which caches the split and keeps its lexemes.

So no string a record brought is kept: only strings the model shipped with, for
words of its dictionary. What a worker keeps is bounded by ``limit`` chunks, and the
work per zone by ``per_zone``. Tokens, lexeme attributes and therefore every
detection result are the same with or without the cache; only the time differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, Final

__all__ = ["ChunkCache", "Dictionary"]

_OUTER: Final = "\"'()[]{}<>.,;:!?-\u2018\u2019\u201c\u201d"
LIMIT: Final = 20_000
"""Chunks a worker learns at most (their lexemes stay: about 0.2 kB each)."""
PER_ZONE: Final = 64
"""Chunks tried at most after one zone (about 40 us each, once)."""
_PENDING_MAX: Final = 4 * PER_ZONE


class Dictionary:
    """English dictionary words, as spaCy's rule lemmatizer knows them: a word of its
    index, one its suffix rules reduce to such a word ("arrived" -> "arrive"), or a
    stop word ("was"). Lower-case words only."""

    def __init__(
        self,
        words: Iterable[str],
        rules: Iterable[tuple[str, str]] = (),
        *,
        index: frozenset[str] = frozenset(),
    ) -> None:
        self._index = index
        """The lemmatizer's index, shared with its owner (80,000 words: not copied)."""
        self._words = frozenset(words) - index
        self._rules = tuple((old, new) for old, new in rules if old)

    def _known(self, word: str) -> bool:
        return word in self._index or word in self._words

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        if self._known(word):
            return True
        for old, new in self._rules:
            if word.endswith(old) and len(word) > len(old) and self._known(
                word[: -len(old)] + new
            ):
                return True
        return False


class ChunkCache:
    """Which dictionary chunks the tokenizer has cached, and which to try next."""

    def __init__(
        self, words: Dictionary, *, limit: int = LIMIT, per_zone: int = PER_ZONE
    ) -> None:
        self._words = words
        self._limit = limit
        self._per_zone = per_zone
        self._known: set[str] = set()
        """Learned or refused: dictionary-shaped chunks only, never a record's value."""
        self._pending: dict[str, None] = {}
        self.learned = 0

    @property
    def full(self) -> bool:
        return len(self._known) >= self._limit

    def note(self, text: str) -> None:
        """Candidates from a text read inside a zone (call it under the zone's lock)."""
        if len(self._pending) >= _PENDING_MAX or self.full:
            return
        known, pending, words = self._known, self._pending, self._words
        for chunk in text.split():
            if chunk in known or chunk in pending:
                continue
            core = chunk.strip(_OUTER)
            if not core or (core.isalpha() and core.lower() in words):
                pending[chunk] = None
                if len(pending) >= _PENDING_MAX:
                    return

    def learn(
        self,
        tokenizer: Callable[[str], Any],
        zone: Callable[[], AbstractContextManager[Any]],
        permanent: Callable[[str], bool],
    ) -> int:
        """Outside any zone: try up to ``per_zone`` pending chunks; the number learned.

        ``tokenizer`` is the pipeline's tokenizer, ``zone`` opens a memory zone and
        ``permanent`` tells whether a string is in the string store outside a zone."""
        if not self._pending:
            return 0
        batch = list(self._pending)[: self._per_zone]
        for chunk in batch:
            del self._pending[chunk]
        with zone():  # tried inside a zone: a refused chunk leaves nothing behind
            split = [(chunk, self._tokens(tokenizer(chunk))) for chunk in batch]
        learned = 0
        for chunk, tokens in split:
            if self.full:
                break
            self._known.add(chunk)
            if tokens is not None and all(permanent(t) for t in tokens):
                tokenizer(chunk)  # outside a zone: cached, lexemes kept
                learned += 1
        self.learned += learned
        return learned

    def _tokens(self, doc: Iterable[Any]) -> list[str] | None:
        """The token strings of a chunk made only of dictionary words, stop words,
        punctuation or space; None for any other chunk."""
        out = []
        for token in doc:
            if not (token.is_stop or token.is_punct or token.is_space) and (
                token.lower_ not in self._words
            ):
                return None
            out.append(token.text)
        return out
