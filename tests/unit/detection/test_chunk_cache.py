"""Dictionary chunks read inside spaCy memory zones are cached between them, and
nothing a record brought is kept: a value's lexeme is gone after its zone, a
dictionary word's stays; tokens are the same either way; the cache is bounded."""

from __future__ import annotations

from typing import Any

import pytest

from streamsec.detection.analyzer import LANGUAGE, get_analyzer
from streamsec.detection.chunk_cache import ChunkCache, Dictionary


@pytest.fixture(scope="module")
def engine() -> Any:
    return get_analyzer().nlp_engine


def _tokens(engine: Any, text: str) -> list[tuple[str, int, bool, bool, str]]:
    with engine.memory_zone():
        doc = engine._pipeline(LANGUAGE).make_doc(text)
        return [(t.text, t.idx, t.is_stop, t.is_punct, t.shape_) for t in doc]


def test_dictionary_words_of_a_zone_stay_and_a_records_values_do_not(engine: Any) -> None:
    vocab = engine._pipeline(LANGUAGE).vocab
    text = (
        "Quarrelled twice, Zbigniewqx Wrzosekvna reported: the refunds arrived. "
        "Card 4290-0489-2490-1630, mail qzx.wrzosek@example.net, id ORD-0606721."
    )
    kept = ["twice", "reported", "refunds", "arrived"]
    values = ["Zbigniewqx", "Wrzosekvna", "4290", "qzx.wrzosek@example.net", "ORD-0606721"]
    before = _tokens(engine, text)
    assert not any(word in vocab for word in values)
    for _ in range(3):  # each zone learns at most PER_ZONE chunks; these are few
        with engine.memory_zone():
            engine.tokenize(text)
    assert all(word in vocab for word in kept), [w for w in kept if w not in vocab]
    assert not any(word in vocab for word in values)  # freed with their zone
    # a dictionary word the model's string store did not hold is not kept either
    assert "Quarrelled" not in vocab
    assert _tokens(engine, text) == before  # the cache changes time, not tokens


def test_learning_is_bounded_and_keeps_only_strings_the_model_had(engine: Any) -> None:
    nlp = engine._pipeline(LANGUAGE)
    words = Dictionary(["alpha", "beta", "gamma", "delta", "qqzzyx"])
    cache = ChunkCache(words, limit=3, per_zone=10)
    with nlp.memory_zone():
        for text in ("alpha beta", "gamma, delta. qqzzyx Qqzzyx", "nonword 1234"):
            cache.note(text)
    assert sorted(cache._pending) == ["Qqzzyx", "alpha", "beta", "delta.", "gamma,", "qqzzyx"]
    seen: list[str] = []

    def permanent(string: str) -> bool:
        seen.append(string)
        return string != "qqzzyx"

    learned = cache.learn(nlp.tokenizer, nlp.memory_zone, permanent)
    assert learned == 3 and cache.full and cache.learned == 3
    assert "qqzzyx" not in nlp.vocab and "Qqzzyx" not in nlp.vocab
    cache.note("epsilon zeta")
    assert not cache._pending  # full: nothing more is noted


def test_a_chunk_with_a_non_dictionary_token_is_refused(engine: Any) -> None:
    nlp = engine._pipeline(LANGUAGE)
    cache = ChunkCache(Dictionary(["call", "dr"]), per_zone=10)
    with nlp.memory_zone():
        cache.note("call: call-qzxv7 (call) Dr.")
    assert list(cache._pending) == ["call:", "(call)", "Dr."]  # "call-qzxv7" is no word
    # "Dr." is one token (a tokenizer exception), and "dr." is not a dictionary word
    assert cache.learn(nlp.tokenizer, nlp.memory_zone, lambda s: True) == 2


@pytest.mark.parametrize(
    ("word", "known"),
    [
        ("arrive", True), ("arrived", True), ("arriving", True), ("charges", True),
        ("was", True), ("the", True), ("boxes", True), ("taller", True),
        ("wrzosekvna", False), ("qzxving", False), ("Arrived", False), ("", False),
    ],
)
def test_the_dictionary_knows_words_their_inflections_and_stop_words(
    engine: Any, word: str, known: bool
) -> None:
    assert (word in engine._chunks._words) is known
