"""Pattern gates (recognizers/_gate.py) change nothing: every gated pattern yields
the same matches (spans and groups) with and without its gate, over the project's
corpora and hostile variants of them; and each gate is pinned to a live pattern."""

from __future__ import annotations

import ast
import json
import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from presidio_analyzer import PatternRecognizer

from streamsec.detection.recognizers import build_recognizers, organization, street_address
from streamsec.detection.recognizers._base import (
    attribute,
    compile_patterns,
    gates_of,
    match_patterns,
    recognizer_name,
)
from streamsec.detection.recognizers._gate import CompiledGate, Gate, fingerprint

ROOT = Path(__file__).resolve().parents[3]

# Characters a gate could get wrong: non-ASCII digits and letters that fold to
# ASCII under IGNORECASE, full-width forms, odd separators and spaces.
_SWAPS = {
    "0": ["\u0660", "\uff10", "\u0966"],
    "1": ["\u0661", "\u00b9", "\uff11"],
    "4": ["\u0664", "\u0a6a"],
    "9": ["\u0669", "\u1049"],
    "k": ["\u212a", "K"],
    "s": ["\u017f", "S"],
    "i": ["\u0130", "\u0131"],
    "a": ["\u0430", "A"],
    ".": ["\uff0e", "\u3002", ". "],
    "@": ["\uff20", " at "],
    ":": ["\uff1a", "::"],
    " ": ["\t", "\u00a0", "\u2009", "\n", "  ", ""],
    "-": ["\u2011", "\u2013", "", " "],
    "/": ["\u2215", "//"],
}
_HOSTILE = [
    "",
    "::",
    ":::1",
    "fe80::1%eth0",
    "::ffff:192.168.0.1",
    "2001:db8::ff00:42:8329/64",
    "1:2:3:4:5:6:1.2.3.4",
    "abcd:1.2.3.4",
    "www\u0661.example.com",
    "www.\u212aelvin.com",
    "'http://example.com/a' \"www.example.org\"",
    "x.com.au/path?q=1",
    ".com",
    "a.b",
    "HTTPS://EXAMPLE.COM",
    "\uff48\uff54\uff54\uff50\uff53://example.com",
    "A-Z]]12345 and a-z]]99",
    "AB12 34 56 C, QQ 12 34 56 A, qq123456d",
    "12345678-Z 12345678Z X1234567L",
    "RSSMRA85T10A562S rssmra85t10a562s RSSMRALPTLMLPMLT RSSMRA\u0668\u0665T10A562S",
    "BB1234567 ab1234567 A91234567",
    "P.O. Box 12, PO Box 3, Postfach 7, apartado 9, CASILLA 1, Postbox 4",
    "PSC 7951, Box 9972 APO AA 69974",
    "Apt. 5, apt#6, Suite 100, # 12, Fl. 3",
    "Via Roma 12, rue de la Paix 5, Calle Mayor 3, ul. Zamkowa 33",
    "Hauptstraße 5, Bahnhofstr. 9, Ringvägen 12, Kungsgatan 4",
    "12 Main Street, 221B Baker St., 5 Av, Elm Way 12, 3 rue 4",
    "Acme Widgets Inc. Smith & Sons, Glover, Ruiz and Armstrong, Foo and Co.",
    "\u0661\u0662 Main Street",
    "1\u20092 Main Street",
]
# Each street type, street prefix and organisation suffix in its pattern's shape.
_HOSTILE += [f"12 Main {w}" for w in street_address._TYPES]
_HOSTILE += [f"Elm {w}. 12" for w in street_address._TYPES]
_HOSTILE += [f"{w} Roma 5" for w in street_address._PREFIXES_ANY_CASE]
_HOSTILE += [f"{w} Roma 5" for w in street_address._PREFIXES_CAPITALISED]
_HOSTILE += [f"Acme Widgets {w}" for w in organization._SUFFIXES]
_HOSTILE += [
    "Mr. Jane Roe",
    "MR. JANE ROE",
    "Dear Jane",
    "my name is jane roe.",
    "Name: Jane Roe",
    "Jane Roe says hi",
    "Jane Roe, MRN 1234567",
    "Jane Roe (d.o.b 1990)",
    "this is Jane Roe",
    "hi\tJane Roe",
    "foo!#bar@example.com",
    "a@b.co",
    ".x@y.z",
    "x..y@z.com",
    "jane.roe+tag@sub-domain.example.co.uk",
    "\uff4a@example.com",
]
# Every piece alone too: a gate that misses one alternative must fail on it.
_HOSTILE += [piece for text in _HOSTILE for piece in text.split(", ")]
_HOSTILE += [piece for text in _HOSTILE for piece in text.split(" ") if len(piece) > 2]


def _word_shapes() -> list[str]:
    """Each gate word in the shapes of the cue patterns (whole words, any case)."""
    out: list[str] = []
    for recognizer in build_recognizers():
        if not isinstance(recognizer, PatternRecognizer):
            continue
        for gate in gates_of(recognizer).values():
            for runs in gate.words or ():
                cue = " ".join(runs)
                for text in (
                    f"{cue} Jane Roe",
                    f"{cue.title()}, Jane Roe",
                    f"Jane Roe {cue} it",
                    f"Jane Roe, {'.'.join(runs).upper()} 12345",
                    f"{cue}: Jane Roe",
                    f"12 Elm {cue.title()}. 4",
                ):
                    out.append(text)
    return out


@cache
def _corpus() -> tuple[str, ...]:
    texts: list[str] = list(_HOSTILE) + _word_shapes()
    synth = json.loads((ROOT / "benchmarks/data/presidio_synth_dataset_v2.json").read_text())
    texts += [d["full_text"] for d in synth]
    for path in sorted((ROOT / "tests/unit/detection").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                texts.append(node.value)
    try:
        from streamsec.testing.breadth_corpus import generate_breadth
        from streamsec.testing.corpus import generate_corpus
    except ImportError:  # pragma: no cover - faker missing
        return tuple(texts)
    records: list[Any] = [r.record for r in generate_breadth(500, 13)]
    records += [c.record for c in generate_corpus(400, 7)]
    for record in records:
        texts += list(_strings(record))
    return tuple(dict.fromkeys(texts))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _variants(texts: tuple[str, ...], n: int, seed: int) -> list[str]:
    """Hostile copies: characters swapped for look-alikes, digits of other scripts,
    other separators; upper- and lower-cased."""
    rng = random.Random(seed)
    out: list[str] = []
    for text in rng.sample(texts, min(n, len(texts))):
        chars = [
            rng.choice(_SWAPS[ch]) if ch in _SWAPS and rng.random() < 0.3 else ch for ch in text
        ]
        swapped = "".join(chars)
        out += [swapped, text.upper(), text.swapcase()]
    return out


_PIECES = (
    "::",
    ":",
    "1",
    "12",
    "123",
    "2001",
    "ffff",
    "db8",
    "Ab",
    ".",
    "..",
    "www",
    "www1.",
    "example",
    ".com",
    ".net",
    ".co",
    ".c",
    "-",
    "'",
    '"',
    "http://",
    "https://",
    " ",
    "\t",
    "\n",
    ",",
    "St",
    "Street",
    "str.",
    "Main",
    "Box",
    "Apt",
    "#",
    "Via",
    "Inc",
    " and ",
    "&",
    "Sons",
    "X",
    "Z",
    "\u0661",
    "\u212a",
    "\u017f",
    "\u0130",
    "\uff10",
    "/",
    "%eth0",
    "1.2.3.4",
    "12345678",
    "RSSMRA",
    "A1",
)


def _fuzz(n: int, seed: int) -> list[str]:
    """Short strings made of the pieces the gated patterns look for."""
    rng = random.Random(seed)
    return ["".join(rng.choices(_PIECES, k=rng.randint(1, 14))) for _ in range(n)]


def _gated() -> list[tuple[PatternRecognizer, str, Any, CompiledGate]]:
    out = []
    for recognizer in build_recognizers():
        if not isinstance(recognizer, PatternRecognizer):
            continue
        for pattern, rx, gate, _ in compile_patterns(recognizer):
            if gate is not None:
                out.append((recognizer, pattern.name, rx, gate))
    return out


def _spans(matches: Any) -> list[tuple[tuple[int, int], ...]]:
    return [tuple(m.regs) for m in matches]


def test_every_gate_is_pinned_to_a_live_pattern() -> None:
    checked = 0
    for recognizer in build_recognizers():
        if not isinstance(recognizer, PatternRecognizer):
            continue
        patterns = {p.name: p for p in attribute(recognizer, "patterns")}
        for name, gate in gates_of(recognizer).items():
            assert name in patterns, (recognizer_name(recognizer), name)
            want = fingerprint(patterns[name].regex, recognizer.global_regex_flags)
            assert gate.proven_for == want, (recognizer_name(recognizer), name, want)
            checked += 1
    assert checked >= 20


def test_a_gate_proven_for_another_pattern_is_not_applied() -> None:
    gate = Gate(fingerprint("a+", 0), needs="b")
    assert gate.compile("a+", 0) is not None
    assert gate.compile("a*", 0) is None


def test_starts_fall_back_to_finditer_on_an_empty_match() -> None:
    import regex

    rx = regex.compile(r"x*")
    gate = Gate(fingerprint("x*", 0), starts=r"[ab]").compile("x*", 0)
    assert gate is not None
    assert _spans(gate.finditer(rx, "axxb")) == _spans(rx.finditer("axxb"))


@pytest.mark.parametrize("part", ["corpora", "hostile", "fuzz"])
def test_gated_patterns_match_exactly_as_without_their_gate(part: str) -> None:
    texts = {
        "corpora": _corpus,
        "hostile": lambda: tuple(_variants(_corpus(), 600, 14)),
        "fuzz": lambda: tuple(_fuzz(6000, 15)),
    }[part]()
    gated = _gated()
    assert len(gated) >= 20
    differ: list[tuple[str, str, str]] = []
    hits = 0
    for recognizer, name, rx, gate in gated:
        for text in texts:
            want = _spans(rx.finditer(text))
            hits += bool(want)
            if _spans(gate.finditer(rx, text)) != want:
                differ.append((recognizer_name(recognizer), name, text[:80]))
    assert not differ, differ[:5]
    assert hits > 100  # the corpora do exercise the gated patterns


def test_recognizers_find_the_same_with_and_without_gates() -> None:
    texts = _corpus()[:2000]
    for recognizer in build_recognizers():
        if not isinstance(recognizer, PatternRecognizer):
            continue
        gated, plain = compile_patterns(recognizer), compile_patterns(recognizer, gated=False)
        if all(g is None for _, _, g, _ in gated):
            continue
        for text in texts:
            assert _found(recognizer, text, gated) == _found(recognizer, text, plain), text


def _found(recognizer: PatternRecognizer, text: str, compiled: Any) -> object:
    """What the recognizer finds, or the exception its validation raised (Presidio's
    fiscal-code check fails on a digit of another script: detection reads
    normalised text, the gates must not change that either)."""
    try:
        return [(r.start, r.end, r.score) for r in match_patterns(recognizer, text, compiled)]
    except Exception as exc:
        return type(exc)


# Features gates narrowed for speed, with the gate they replaced: what the old gate
# let through and the new one skips must give no finding.
_NARROWED = {
    "DateRecognizer": lambda f: f.digits > 0,
    "StreetAddressRecognizer": lambda f: f.digits > 0,
}


@pytest.mark.parametrize("part", ["corpora", "hostile", "fuzz"])
def test_narrowed_features_gates_skip_only_texts_without_findings(part: str) -> None:
    from streamsec.detection.features import features_of
    from streamsec.detection.recognizers import RECOGNIZERS

    texts = {
        "corpora": _corpus,
        "hostile": lambda: tuple(_variants(_corpus(), 600, 16)),
        "fuzz": lambda: tuple(_fuzz(6000, 17)) + tuple(f"{t} #5" for t in _fuzz(500, 18)),
    }[part]()
    wrong: list[tuple[str, str]] = []
    skipped = 0
    for name, before in _NARROWED.items():
        spec = RECOGNIZERS[name]
        recognizer = spec.factory()
        entities = list(recognizer.supported_entities)
        for text in texts:
            features = features_of(text)
            if spec.gate(features) or not before(features):
                continue
            skipped += 1
            if recognizer.analyze(text, entities, None):
                wrong.append((name, text[:80]))
    assert not wrong, wrong[:5]
    assert skipped > 100


@pytest.mark.parametrize("part", ["corpora", "hostile", "fuzz"])
def test_the_ascii_twins_of_needs_and_starts_find_what_regex_finds(part: str) -> None:
    """On an ASCII text a gate's ``needs`` and ``starts`` run compiled by ``re``: on
    every ASCII text of the corpora they find the same spans as ``regex`` does."""
    texts = {
        "corpora": _corpus,
        "hostile": lambda: tuple(_variants(_corpus(), 600, 14)),
        "fuzz": lambda: tuple(_fuzz(6000, 15)),
    }[part]()
    ascii_texts = [t for t in texts if t.isascii()]
    assert len(ascii_texts) > len(texts) // 3
    twins = found = 0
    differ: list[tuple[str, str, str]] = []
    for recognizer, name, _, gate in _gated():
        for theirs, ours in ((gate.needs, gate.ascii_needs), (gate.starts, gate.ascii_starts)):
            if theirs is None or ours is theirs:
                continue
            twins += 1
            for text in ascii_texts:
                want = _spans(theirs.finditer(text))
                found += bool(want)
                if _spans(ours.finditer(text)) != want:
                    differ.append((recognizer_name(recognizer), name, text[:80]))
    assert not differ, differ[:5]
    assert twins >= 10 and found > 100
