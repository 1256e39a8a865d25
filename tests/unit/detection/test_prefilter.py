"""The one-pass Hyperscan prefilter (recognizers/_prefilter.py) changes nothing:
every pattern recognizer finds exactly the same with and without it over the
corpora, hostile variants and fuzz strings of test_gates.py plus the harness's
structured values; a pattern missing from a scan's result is caught by that
check; undecidable text and a failing scan run every pattern; threads share
the database safely."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import hyperscan
import pytest
import regex
from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry

from streamsec.detection.engine import BatchEngine, Job
from streamsec.detection.features import features_of
from streamsec.detection.recognizers import _prefilter, build_recognizers
from streamsec.detection.recognizers._base import (
    compile_patterns,
    match_patterns,
    recognizer_name,
)
from streamsec.detection.recognizers.zip_code import ZipCodeRecognizer
from streamsec.testing.corpus import generate_corpus
from tests.unit.detection.test_gates import _corpus, _fuzz, _variants

Runner = tuple[str, Callable[[str], list[Any]]]


@cache
def _runners() -> tuple[Runner, ...]:
    """Every pattern recognizer as the engine runs it (Presidio's through the lean
    matcher, streamsec's through their own ``analyze``); the database built."""
    out: list[Runner] = []
    for recognizer in build_recognizers():
        if not isinstance(recognizer, PatternRecognizer):
            continue
        entities = list(recognizer.supported_entities)
        if type(recognizer).analyze is PatternRecognizer.analyze:
            compiled = compile_patterns(recognizer)
            out.append(
                (recognizer_name(recognizer), lambda t, r=recognizer, c=compiled: _lean(r, t, c))
            )
        else:
            out.append(
                (recognizer_name(recognizer), lambda t, r=recognizer, e=entities: r.analyze(t, e))
            )
    _prefilter.build()
    return tuple(out)


def _lean(recognizer: PatternRecognizer, text: str, compiled: Any) -> list[Any]:
    return match_patterns(recognizer, text, compiled)


def _found(run: Callable[[str], list[Any]], text: str) -> object:
    try:
        return sorted(
            (r.entity_type, r.start, r.end, r.score, r.analysis_explanation.pattern_name)
            for r in run(text)
        )
    except Exception as exc:  # Presidio's fiscal-code check on foreign digits
        return type(exc)


@cache
def _structured() -> tuple[str, ...]:
    """The harness's leaves (numbers as the detector reads them) and record keys.
    Cached: some generated values follow the clock, and the findings without the
    prefilter are computed once per text."""
    rng = random.Random(3)
    out: list[str] = []
    for c in generate_corpus(300, 11, ("customer", "payment", "event")):
        out += list(_leaves(c.record))
    out += [f"tp-{rng.getrandbits(24):06x}-{i:06d}" for i in range(300)]
    out += [str(rng.getrandbits(30)) for _ in range(200)]
    return tuple(dict.fromkeys(out))


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _ascii_fuzz(n: int, seed: int) -> tuple[str, ...]:
    """Printable ASCII built from what the patterns look for, with line ends."""
    rng = random.Random(seed)
    pieces = [
        *"0123456789-./@:#,()'\"+ \t\r\n_",
        "Main St",
        "Apt 4",
        "jane.roe",
        "@example.com",
        "http://",
        "www.",
        "4111 1111 1111 1111",
        "123-45-6789",
        "GB82 WEST 1234 5698 7654 32",
        "+1 (555) 010-9999",
        "Mr. Jane Roe",
        "my name is",
        "DOB",
        "SSN",
        "\r\n",
        "^$",
    ]
    return tuple("".join(rng.choices(pieces, k=rng.randint(1, 12))) for _ in range(n))


_PARTS: dict[str, Callable[[], tuple[str, ...]]] = {
    "corpora": _corpus,
    "hostile": cache(lambda: tuple(_variants(_corpus(), 500, 21))),
    "fuzz": cache(lambda: tuple(_fuzz(3000, 22)) + _ascii_fuzz(3000, 23)),
    "structured": _structured,
}


@cache
def _without(part: str) -> tuple[tuple[object, ...], ...]:
    texts = _PARTS[part]()
    with _prefilter.disabled():
        return tuple(tuple(_found(run, t) for _, run in _runners()) for t in texts)


def _differences(part: str) -> list[tuple[str, str]]:
    texts = _PARTS[part]()
    want = _without(part)
    differ: list[tuple[str, str]] = []
    for text, expected in zip(texts, want, strict=True):
        for (name, run), before in zip(_runners(), expected, strict=True):
            if _found(run, text) != before:
                differ.append((name, text[:80]))
    return differ


@pytest.mark.parametrize("part", list(_PARTS))
def test_findings_are_identical_with_and_without_the_prefilter(part: str) -> None:
    assert not _differences(part)[:5]
    texts = _PARTS[part]()
    decided = sum(_prefilter.scan(t) is not None for t in texts)
    assert decided > len(texts) // 3  # the prefilter did decide for these texts
    assert sum(bool(f) for row in _without(part) for f in row) > 100


@pytest.mark.parametrize("part", list(_PARTS))
def test_every_regex_match_is_reported_by_the_scan(part: str) -> None:
    """The superset itself, per pattern (stronger than equal findings: a match
    that validation would drop must be reported too)."""
    _runners()
    reg = _prefilter._REGISTRY
    compiled = [
        (pid, name, regex.compile(source, flags))
        for pid, (source, flags, name) in enumerate(reg.entries)
    ]
    missed: list[tuple[str, str]] = []
    checked = 0
    for text in _PARTS[part]():
        decided = _prefilter.scan(text)
        if decided is None:
            continue
        covered, reported = decided
        for pid, name, rx in compiled:
            if pid in covered and pid not in reported:
                checked += 1
                if rx.search(text) is not None:
                    missed.append((name, text[:80]))
    assert not missed, missed[:5]
    assert checked > 1000


def _near(text: str, start: int, end: int, rng: random.Random) -> list[str]:
    """Decidable texts around one match: other separators and case, the match cut
    at either end, at the start or end of a line, after a CR, with a word char
    glued on."""
    match = text[start:end]
    out = [match, match.upper(), match.lower(), match.swapcase(), f"x{match}", f"{match}_"]
    out += [f"{c}{match}{d}" for c in ("\r", "\t", "\n", " ", "(") for d in ("\r", " ", ".")]
    out += [match[1:], match[:-1], text[:end], text[start:], f"a\n{match}\nb"]
    out += [match.replace(" ", rng.choice(["\t", "  ", "\r", "-", ""])) for _ in range(3)]
    return [t for t in out if _prefilter.scan(t) is not None]


def test_texts_near_every_match_are_reported() -> None:
    """Per pattern, perturbations of the texts it matches (the hardest place for a
    translation to be too narrow): whenever regex still matches, the scan reports
    the pattern."""
    _runners()
    rng = random.Random(31)
    texts = _corpus() + _structured()
    missed: list[tuple[str, str]] = []
    exercised = 0
    for pid, (source, flags, name) in enumerate(_prefilter._REGISTRY.entries):
        rx = regex.compile(source, flags)
        seen = 0
        for text in texts:
            if seen >= 12:
                break
            m = rx.search(text)
            if m is None or m.end() == m.start():
                continue
            seen += 1
            for near in _near(text, m.start(), m.end(), rng):
                decided = _prefilter.scan(near)
                assert decided is not None
                if pid in decided[0] and pid not in decided[1] and rx.search(near):
                    missed.append((name, near[:80]))
        exercised += seen > 0
    assert not missed, missed[:5]
    assert exercised >= 80


def test_the_engine_finds_the_same_and_skips_recognizers(analyzer: Any) -> None:
    engine = BatchEngine(analyzer, None)
    texts = _structured() + _corpus()[:1500]
    jobs = [Job(t, features_of(t), True) for t in texts]

    def one(job: Job) -> object:
        try:
            raw = engine._run_cheap(job, 0.0).raw  # 0: no recognizer is skipped as weak
            return sorted((r.entity_type, r.start, r.end, r.score) for r in raw)
        except Exception as exc:  # see _found
            return type(exc)

    def run() -> list[object]:
        return [one(job) for job in jobs]

    with _prefilter.disabled():
        want = run()
    assert run() == want


@pytest.mark.parametrize("threshold", [0.35, 0.5])
def test_a_recognizer_that_can_only_score_too_low_is_skipped_with_the_same_results(
    analyzer: Any, threshold: float
) -> None:
    """A recognizer whose reported patterns score below the threshold, with no context
    word in the text or the path to lift them, is not run; the results stay the same,
    context lifts (``ssn``, ``passport`` ...) and the ZIP code's neighbours included."""
    calls: dict[tuple[bool, str], int] = {}

    def engine(skips: bool) -> BatchEngine:
        made = BatchEngine(analyzer, None)
        assert _prefilter.ready(60)
        if not skips:
            made._ceilings = [None] * len(made._ceilings)
        counted = []
        for recognizer, spec, analyze, pids in made._cheap:
            def count(text: str, a: Any = analyze, key: Any = (skips, recognizer.name)) -> Any:
                calls[key] = calls.get(key, 0) + 1
                return a(text)
            counted.append((recognizer, spec, count, pids))
        made._cheap = counted
        return made

    tickets = tuple(str(c.record["body"]) for c in generate_corpus(200, 5, ("ticket",)))
    texts = _structured() + tickets + (
        "95014", "Main Street 12, 95014 Cupertino", "030 12345678", "0301234567", "01632 960001"
    )  # national numbers the phone recognizer raises to 0.55 itself
    paths = [(), ("ssn",), ("passport", "no"), ("zip",), ("license",), ("bank", "account"),
             ("ts",)]
    jobs = [Job(t, features_of(t), False, path) for t in texts for path in paths]

    def found(made: BatchEngine) -> list[object]:
        return [sorted((r.entity_type, r.start, r.end, r.score) for r in results)
                for results in made.run(jobs, threshold)]

    assert found(engine(True)) == found(engine(False))
    for name in ("UsBankRecognizer", "UsPassportRecognizer", "PhoneRecognizer"):
        assert calls.get((True, name), 0) < calls[False, name]
    assert sum(n for (skips, _), n in calls.items() if skips) < 0.95 * sum(
        n for (skips, _), n in calls.items() if not skips
    )


def test_a_context_word_or_a_zip_code_next_door_keeps_a_weak_recognizer_running(
    analyzer: Any,
) -> None:
    """What the skip must not lose: a weak match a path word lifts, and a weak place
    the ZIP code recognizer reads (a ``LOCATION`` at 0.1 lifts the code next to it)."""
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_recognizer(ZipCodeRecognizer())
    registry.add_recognizer(PatternRecognizer(
        supported_entity="LOCATION", name="WeakTown",
        patterns=[Pattern("town", r"\bCupertino\b", 0.1)],
    ))
    registry.add_recognizer(PatternRecognizer(
        supported_entity="US_BANK_NUMBER", name="WeakAccount", context=["account"],
        patterns=[Pattern("digits", r"\b\d{9}\b", 0.05)],
    ))
    engine = BatchEngine(
        AnalyzerEngine(registry=registry, nlp_engine=analyzer.nlp_engine), None
    )
    assert _prefilter.ready(60)
    jobs = [Job(t, features_of(t), False, p) for t, p in [
        ("95014 Cupertino", ()), ("414866820", ("account",)), ("414866820", ("ts",))
    ]]
    town, account, plain = engine.run(jobs, 0.35)
    assert {(r.entity_type, r.score) for r in town} == {("ZIP_CODE", 0.6)}
    assert [(r.entity_type, r.score) for r in account] == [("US_BANK_NUMBER", 0.4)]
    assert plain == []


@pytest.mark.parametrize(
    ("recognizer", "pattern"),
    [
        ("EmailRecognizer", "Email (Medium)"),
        ("CreditCardRecognizer", "All Credit Cards (weak)"),
        ("StreetAddressRecognizer", "number + name + street type"),
        ("DateRecognizer", "yyyy-mm-dd"),
    ],
)
def test_a_pattern_dropped_from_the_scan_is_caught(
    monkeypatch: pytest.MonkeyPatch, recognizer: str, pattern: str
) -> None:
    """Mutation: the scan 'forgets' one pattern (a false negative of the database):
    the equivalence check above must see a difference."""
    _runners()
    pids = {
        (recognizer_name(r), p.name): pid
        for r in build_recognizers()
        if isinstance(r, PatternRecognizer)
        for p, _, _, pid in compile_patterns(r)
    }
    dropped = pids[(recognizer, pattern)]
    assert dropped in _prefilter.scan("jane@example.com 4111 1111 1111 1111")[0]  # type: ignore[index]
    real = _prefilter.scan

    def forgetful(text: str) -> tuple[frozenset[int], frozenset[int]] | None:
        result = real(text)
        return None if result is None else (result[0], result[1] - {dropped})

    monkeypatch.setattr(_prefilter, "scan", forgetful)
    differ = _differences("corpora") + _differences("structured")
    assert any(name == recognizer for name, _ in differ), differ[:3]


@pytest.mark.parametrize(
    "text",
    [
        "jane@exämple.com",
        "4111\u00a01111 1111 1111",
        "\uff11\uff12\uff13-45-6789",
        "vertical\x0btab 123-45-6789",
        "form\x0cfeed",
        "file\x1cseparator",
        "nul\x00byte",
        "del\x7f",
        "ends with a newline 123-45-6789\n",
    ],
)
def test_text_outside_printable_ascii_is_not_decided(text: str) -> None:
    _runners()
    assert _prefilter.scan(text) is None


def test_printable_ascii_with_tabs_and_line_ends_is_decided() -> None:
    _runners()
    decided = _prefilter.scan("a\tb\r\nc 123-45-6789\nd")
    assert decided is not None and decided[1]
    assert _prefilter.scan("") is not None


def test_a_failing_scan_runs_every_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    _runners()
    real = _prefilter._REGISTRY.database
    assert real is not None

    class Broken:
        def scan(self, *args: object, **kwargs: object) -> None:
            raise hyperscan.error("broken")

    broken = _prefilter._Database(Broken(), real.covered, real.registered, 0)  # type: ignore[arg-type]
    monkeypatch.setattr(_prefilter._REGISTRY, "database", broken)
    monkeypatch.setattr(hyperscan, "Scratch", lambda db: object())
    assert _prefilter.scan("jane@example.com, 4111 1111 1111 1111") is None
    names = dict(_runners())
    found = names["EmailRecognizer"]("write to jane@example.com")
    assert [(r.start, r.end) for r in found] == [(9, 25)]


def test_every_pattern_but_the_longest_is_in_the_database() -> None:
    """Only patterns over MAX_SOURCE_CHARS (Presidio's four URL patterns, slow to
    compile) stay out; they always run."""
    _runners()
    _prefilter.build()
    stats = _prefilter.stats()
    assert stats.registered >= 100
    assert stats.in_database == stats.registered - len(stats.refused)
    assert sorted(stats.refused) == sorted(
        f"WebUrlRecognizer/{name}" for name in
        ("Standard Url", "Non schema URL", "Quoted URL", "Quoted Non-schema URL"))
    assert all("slow to compile" in why for why in stats.refused.values())


def test_a_build_in_the_background_installs_the_database_later() -> None:
    """The engine's start-up does not wait: until the database is there, scan decides
    nothing (every pattern runs)."""
    from streamsec.detection.recognizers._prefilter import _REGISTRY

    _runners()
    _prefilter.build()
    built = _REGISTRY.database
    release = threading.Event()
    original = _prefilter._compile

    def slow(*args: Any) -> Any:
        assert release.wait(30)
        return original(*args)

    _prefilter._compile = slow  # type: ignore[assignment]
    try:
        _REGISTRY.database = None
        _prefilter.build(wait=False)
        assert _prefilter.scan("call 415-555-0134") is None
        release.set()
        assert _REGISTRY.building is not None
        _REGISTRY.building.join(60)
        assert _prefilter.scan("call 415-555-0134") is not None
    finally:
        release.set()
        _prefilter._compile = original  # type: ignore[assignment]
        if _REGISTRY.database is None:
            _REGISTRY.database = built


def test_threads_scan_concurrently_with_the_same_results() -> None:
    runners = _runners()
    texts = _structured()[:600] + _corpus()[:600]
    alone = [tuple(_found(run, t) for _, run in runners) for t in texts]
    scans = [_prefilter.scan(t) for t in texts]
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}

    def work(k: int) -> None:
        barrier.wait()
        order = texts if k == 0 else texts[::-1]
        got = {t: (_prefilter.scan(t), tuple(_found(run, t) for _, run in runners)) for t in order}
        results[k] = [got[t] for t in texts]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert set(results) == {0, 1}
    for k in (0, 1):
        assert [s for s, _ in results[k]] == scans
        assert [f for _, f in results[k]] == alone
