"""The prefilter's translation of patterns to Hyperscan (recognizers/_pcre.py) and
its database build (recognizers/_prefilter.py, _hscompile.py): constructs without
a PCRE superset are refused, properties are carried over exactly, a pattern
Hyperscan refuses always runs, the database is compiled in a child process."""

from __future__ import annotations

from typing import Any

import hyperscan
import pytest
import regex
from presidio_analyzer import Pattern

from streamsec.detection.recognizers import _prefilter
from streamsec.detection.recognizers._base import FastPatternRecognizer
from streamsec.detection.recognizers._pcre import Refused, translate


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        (r"\d{,3}", 0),  # regex: {0,3}; PCRE: a literal
        (r"(?:jane){e<=1}", 0),  # fuzzy matching
        (r"\mjane", 0),  # regex's start of word
        (r"(\d)\12", 0),  # back-reference 12 or 1 then '2'
        (r"[\1]", 0),  # an octal escape in a class
        (r"a(?i)b", 0),  # a global flag after the start
        (r"(?V1)a", 0),
        (r"(?x)a b", 0),
        (r"a b", regex.VERBOSE),
        (r"a", regex.V1),
        (r"a", regex.FULLCASE | regex.IGNORECASE),
        (r"\P{L}", 0),
        (r"\p{Greek}", 0),
        (r"[[:alpha:]]", 0),
        ("\u212a", 0),  # Kelvin sign: matches 'k' under IGNORECASE
        (r"\u017f", 0),  # long s: matches 's'
        (r"\N{LATIN SMALL LETTER A}", 0),
        (r"\v", 0),  # a vertical tab in regex, a class in PCRE
        (r"[\u0100-\u2200]", 0),  # holds the Kelvin sign
        ("[a-\u00ff]", 0),
        (r"[a", 0),
    ],
)
def test_constructs_without_a_pcre_superset_are_refused(source: str, flags: int) -> None:
    with pytest.raises(Refused):
        translate(source, flags)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (r"\p{Lu}\p{Ll}", rb"[A-Z][a-z]"),
        (r"[^\p{Lu}]", rb"[^A-Z]"),
        (r"[\p{L}'\u2019-]", rb"[A-Za-z'\x80-]"),  # non-ASCII: a byte no text holds
        ("caf\u00e9?", rb"caf[\x80]?"),  # one atom: the '?' keeps its operand
        (r"(?P<value>\d{2,4})(?<![.])(?i:x)", rb"(?P<value>\d{2,4})(?<![.])(?i:x)"),
        (r"\u002e", rb"\x2e"),  # an escaped ASCII character stays literal
        (r"(\d)-\1", rb"(\d)-\1"),  # a back-reference (Hyperscan approximates it)
    ],
)
def test_translation_to_ascii(source: str, expected: bytes) -> None:
    assert translate(source, 0)[0] == expected


_DECIDABLE = [chr(c) for c in range(0x20, 0x7F)] + ["\t", "\r", "\n"]


@pytest.mark.parametrize("prop", ["L", "Lu", "Ll", "N", "Nd", "M"])
@pytest.mark.parametrize("flags", [0, regex.IGNORECASE])
def test_properties_match_the_same_characters_in_both_engines(prop: str, flags: int) -> None:
    """Read exactly (no prefilter): each translated property, alone and in a
    negated class, matches the same decidable characters as regex's."""
    for source in (rf"\p{{{prop}}}", rf"[^\p{{{prop}}}]", rf"[x\p{{{prop}}}]"):
        expression, hs_flags = translate(f"^{source}$", flags)
        db = hyperscan.Database()
        db.compile(
            expressions=[expression],
            ids=[0],
            flags=[hs_flags & ~hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY],
        )
        rx = regex.compile(source, flags)
        for ch in _DECIDABLE:
            hits: list[int] = []
            db.scan(ch.encode(), match_event_handler=lambda *a, h=hits: h.append(1))
            assert bool(hits) == (rx.fullmatch(ch) is not None), (source, flags, ch)


class _EmptyMatching(FastPatternRecognizer):
    """A pattern Hyperscan refuses (it can match the empty string) next to one it
    accepts."""

    PATTERNS = [
        Pattern("maybe empty", r"q*(?:zz)?", 0.9),
        Pattern("plain", r"\bxyz\d\b", 0.9),
    ]
    ENTITY = "TEST_EMPTY"


def test_a_pattern_hyperscan_refuses_always_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_prefilter, "_REGISTRY", _prefilter._Registry())  # a small database
    recognizer = _EmptyMatching()
    _prefilter.build()
    stats = _prefilter.stats()
    assert stats.refused.keys() == {"_EmptyMatching/maybe empty"}
    assert stats.in_database == 1
    text = "abc qqq zz xyz1"
    assert _prefilter.scan(text) is not None
    found = recognizer.analyze(text, ["TEST_EMPTY"])
    assert [(r.start, r.end) for r in found] == [(4, 7), (8, 10), (11, 15)]
    assert [(r.start, r.end) for r in recognizer.analyze("qq", ["TEST_EMPTY"])] == [(0, 2)]
    assert _prefilter.scan("qq") == (frozenset({1}), frozenset())  # 'plain' ruled out


@pytest.mark.parametrize("child", [True, False])
def test_the_database_is_compiled_apart_or_here_when_the_child_fails(
    monkeypatch: pytest.MonkeyPatch, child: bool
) -> None:
    monkeypatch.setattr(_prefilter, "_REGISTRY", _prefilter._Registry())  # a small database
    calls: list[bool] = []
    apart = _prefilter._compile_apart

    def spy(*args: Any) -> Any:
        if not child:
            calls.append(True)
            raise OSError("no child process here")
        answer = apart(*args)  # the child really ran and answered
        calls.append(answer[0] is not None and answer[1] == {0: answer[1].get(0, "")})
        return answer

    monkeypatch.setattr(_prefilter, "_compile_apart", spy)
    recognizer = _EmptyMatching()
    _prefilter.build()
    assert calls == [True]
    assert _prefilter.stats().in_database == 1
    assert _prefilter.scan("qq") == (frozenset({1}), frozenset())
    assert [(r.start, r.end) for r in recognizer.analyze("xyz7", ["TEST_EMPTY"])] == [(0, 4)]
