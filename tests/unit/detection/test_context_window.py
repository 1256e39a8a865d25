"""The context window gives Presidio's lemma enhancer exactly the words the whole
text gives it: for every token start of the detection corpora, their hostile
variants, fuzz strings and whitespace/colon cases, the surrounding words are equal,
and so are the enhanced scores; the window is narrower than the text when it can be."""

from __future__ import annotations

import random
from functools import cache
from typing import Any

import pytest
from presidio_analyzer import AnalysisExplanation, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

from streamsec.detection.analyzer import LANGUAGE, get_analyzer
from streamsec.detection.context_window import window_artifacts
from tests.unit.detection.test_gates import _corpus, _fuzz, _variants

_CASES = (
    "Please call me at 343.361.4364 or write to a@b.example.",
    "phone:   555-0100\n\n\n call\tme  at  555-0199 please",
    "re:phone number is 555 0100, card:visa 4111 1111 1111 1111 ssn:the 078-05-1120",
    "the:the be:be a:b: :: ::: http://example.com/x:y 10:30 the the the the 42",
    "   leading spaces then a number 555-0100 and trailing   ",
    "\u00a0non-breaking\u00a0space 555-0100\u2003em space 555-0199\u3000ideographic",
    "a " * 200 + "555-0100 " + "b " * 200,
    "Call " + "x" * 500 + " 555-0100",
    # a stop word is a keyword when a qualifying token elsewhere holds it after a ':'
    "the the the the the the the the 555-0100 " + "filler " * 40 + "http://example.com/a:the",
    "http://x.org/q:be mailto:for@me.com " + "filler " * 40 + "be for be for be for 555-0100",
    # a window that would end inside a newline's run of spaces (one token in the text)
    "Mutation: the scan 'forgets' one pattern (a false negative of the database):\n"
    "    the equivalence check above must see a difference.",
    "a b c d e f g h 555-0100 i j k l m n o p q r s t u v w x y z:\n      \n  next",
)


@cache
def _texts() -> tuple[str, ...]:
    corpus = _corpus()
    rng = random.Random(11)
    picked = rng.sample(corpus, min(600, len(corpus)))
    return tuple(list(_CASES) + picked + _variants(corpus, 80, 3) + _fuzz(200, 4))


@cache
def _engine() -> Any:
    return get_analyzer().nlp_engine


def _starts(doc: Any) -> list[int]:
    return sorted({t.idx for t in doc} | {t.idx + len(t) // 2 for t in doc if len(t) > 1})


@pytest.mark.parametrize(("prefix", "suffix"), [(5, 2), (5, 0), (0, 0), (9, 4)])
def test_the_window_gives_the_enhancer_the_words_of_the_whole_text(
    prefix: int, suffix: int
) -> None:
    engine = _engine()
    enhancer = LemmaContextAwareEnhancer(
        context_prefix_count=prefix, context_suffix_count=suffix
    )
    compared = narrower = 0
    texts = _texts() if (prefix, suffix) == (5, 2) else _texts()[:150]
    with engine.memory_zone():
        make_doc = engine._pipeline(LANGUAGE).make_doc
        for text in texts:
            if not text.strip():
                continue
            whole = engine.tokenize(text)
            for start in _starts(whole.tokens)[:40]:
                end = min(len(text), start + 3)
                window = window_artifacts(text, [start], end, make_doc, prefix, suffix, LANGUAGE)
                expected = enhancer._extract_surrounding_words(whole, "x", start)
                got = enhancer._extract_surrounding_words(window, "x", start)
                assert sorted(got) == sorted(expected), (text[:80], start)
                compared += 1
                narrower += len(window.tokens) < len(whole.tokens)
    assert compared > (2000 if len(texts) > 150 else 1000)
    assert narrower > compared // 5  # it is a window, not the text


def test_several_matches_share_one_window_and_keep_their_words() -> None:
    engine = _engine()
    enhancer = LemmaContextAwareEnhancer(context_prefix_count=5, context_suffix_count=2)
    text = (
        "Hi, this is Bradley Crawford. My card 4290 0489 2490 1630 was charged twice "
        "for order ORD-060672. Please call me at 343.361.4364 or reach me on "
        "(982) 854-3250 any time."
    )
    starts = [text.index("343."), text.index("(982)")]
    end = text.index("any time")
    with engine.memory_zone():
        make_doc = engine._pipeline(LANGUAGE).make_doc
        whole = engine.tokenize(text)
        window = window_artifacts(text, starts, end, make_doc, 5, 2, LANGUAGE)
        assert "Bradley" not in window.tokens.text  # the start of the text is not read
        for start in starts:
            assert sorted(enhancer._extract_surrounding_words(window, "x", start)) == sorted(
                enhancer._extract_surrounding_words(whole, "x", start)
            )


def test_enhanced_results_are_those_of_the_whole_text() -> None:
    analyzer = get_analyzer()
    engine = analyzer.nlp_engine
    enhancer = analyzer.context_aware_enhancer
    phone = next(r for r in analyzer.registry.recognizers if "PHONE_NUMBER" in r.supported_entities)
    texts = [t for t in _texts() if len(t) > 40][:300]
    lifted = 0
    with engine.memory_zone():
        make_doc = engine._pipeline(LANGUAGE).make_doc
        for text in texts:
            weak = [
                RecognizerResult("PHONE_NUMBER", s, min(len(text), s + 4), 0.3,
                                 AnalysisExplanation(phone.name, 0.3),
                                 recognition_metadata={
                                     RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: phone.id,
                                     RecognizerResult.RECOGNIZER_NAME_KEY: phone.name,
                                 })
                for s in _starts(engine.tokenize(text).tokens)[::7][:6]
            ]
            if not weak:
                continue
            end = max(r.end for r in weak)
            window = window_artifacts(
                text, [r.start for r in weak], end, make_doc,
                enhancer.context_prefix_count, enhancer.context_suffix_count, LANGUAGE,
            )
            kwargs = {"text": text, "raw_results": weak, "recognizers": [phone], "context": []}
            expected = enhancer.enhance_using_context(nlp_artifacts=engine.tokenize(text), **kwargs)
            got = enhancer.enhance_using_context(nlp_artifacts=window, **kwargs)
            assert [(r.start, r.score) for r in got] == [(r.start, r.score) for r in expected]
            lifted += sum(r.score > 0.3 for r in got)
    assert lifted > 20
