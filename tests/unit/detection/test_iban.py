"""streamsec's IBAN recognizer finds exactly what Presidio's ``IbanRecognizer`` finds
(spans, scores, pattern), over the detection corpora, their hostile variants, fuzz
strings, the harness's structured values and IBAN-specific cases; it is what the
registry builds; it is skipped on texts the prefilter rules out; and it never logs
a value."""

from __future__ import annotations

import logging
import random
from functools import cache

import pytest
from presidio_analyzer.predefined_recognizers import IbanRecognizer

from streamsec.detection.engine import _analyzer_for
from streamsec.detection.recognizers import _prefilter, build_recognizers
from streamsec.detection.recognizers._base import recognizer_name
from streamsec.detection.recognizers.iban import FastIbanRecognizer
from tests.unit.detection.test_gates import _corpus, _fuzz, _variants
from tests.unit.detection.test_prefilter import _ascii_fuzz, _structured

_VALID = [
    "GB82 WEST 1234 5698 7654 32",
    "GB82WEST12345698765432",
    "DE89 3704 0044 0532 0130 00",
    "DE89-3704-0044-0532-0130-00",
    "FR14 2004 1010 0505 0001 3M02 606",
    "NL91ABNA0417164300",
    "ES9121000418450200051332",
    "CH9300762011623852957",
    "NO9386011117947",
]


def _iban_cases() -> list[str]:
    rng = random.Random(5)
    out: list[str] = []
    for iban in _VALID:
        compact = iban.replace(" ", "").replace("-", "")
        out += [
            iban,
            iban.lower(),
            compact.lower(),
            compact[:2] + compact[2:].lower(),  # only the upper-cased copy is well formed
            f"I want my deposit in {iban} 2 days from today.",
            f"iban: {iban}, bank: x",
            f"X{compact}",
            f"{compact}9",
            compact[:4] + ("0" if compact[4] != "0" else "1") + compact[5:],  # bad checksum
            compact[:-1],
            f"{iban} {iban}",
            f"{compact}\n{compact[:-2]}",
        ]
    for _ in range(300):  # random well-shaped strings, mostly failing the checksum
        country = rng.choice(["GB", "DE", "FR", "NL", "XX", "ZZ"])
        body = "".join(rng.choices("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -", k=rng.randint(8, 34)))
        out.append(f"{country}{rng.randint(0, 99):02d}{body}")
    return out


@cache
def _texts() -> tuple[str, ...]:
    texts = list(_corpus()) + _variants(_corpus(), 500, 31) + _fuzz(2000, 32)
    texts += list(_ascii_fuzz(2000, 33)) + list(_structured()) + _iban_cases()
    return tuple(dict.fromkeys(texts))


def _found(recognizer: IbanRecognizer, text: str) -> list[tuple[object, ...]]:
    return sorted(
        (r.entity_type, r.start, r.end, r.score, r.analysis_explanation.pattern_name)
        for r in recognizer.analyze(text, ["IBAN_CODE"])
    )


def test_it_finds_exactly_what_presidio_finds() -> None:
    presidio, fast = IbanRecognizer(), FastIbanRecognizer()
    _prefilter.build()
    texts = _texts()
    differ = [t[:60] for t in texts if _found(fast, t) != _found(presidio, t)]
    assert not differ[:5]
    found = [t for t in texts if _found(presidio, t)]
    assert len(found) > 50  # the comparison saw real IBANs
    assert any(r.score == 1.0 for t in found for r in fast.analyze(t, ["IBAN_CODE"]))


def test_validation_matches_presidio_on_every_case() -> None:
    presidio, fast = IbanRecognizer(), FastIbanRecognizer()
    cases = [c.replace(" ", "") for c in _iban_cases()] + ["", "G", "GB", "GB82", "GB8/WEST"]
    results = [(fast.validate_result(c), presidio.validate_result(c)) for c in cases]
    assert [f for f, _ in results] == [p for _, p in results]
    assert {True, False, None} <= {f for f, _ in results}


def test_the_registry_builds_it_under_presidios_name() -> None:
    (recognizer,) = [r for r in build_recognizers() if recognizer_name(r) == "IbanRecognizer"]
    assert isinstance(recognizer, FastIbanRecognizer)
    _, pids = _analyzer_for(recognizer, ["IBAN_CODE"])
    assert pids  # the engine skips it on a text the prefilter rules out


def test_a_text_the_prefilter_rules_out_runs_no_regex(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = FastIbanRecognizer()
    _prefilter.build()
    text = "order 12345 shipped to the depot"
    decided = _prefilter.scan(text)
    assert decided is not None and not decided[1] & {c[3] for c in fast._compiled}
    unrunnable = [(p, None, None, pid) for p, _, _, pid in fast._compiled]
    monkeypatch.setattr(fast, "_compiled", unrunnable)
    assert fast.analyze(text, ["IBAN_CODE"]) == []  # a run regex would fail on None


def test_an_invalid_value_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert FastIbanRecognizer().validate_result("GB82WEST1234569876543/") is False
    assert "WEST" not in caplog.text
