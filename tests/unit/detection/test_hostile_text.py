"""The real detector on hostile text: look-alikes, NUL bytes, long texts, budgets."""

from __future__ import annotations

import pytest

from streamsec.detection import PresidioDetector, budget
from streamsec.errors import DetectionError, RecordTooSlowError

FULLWIDTH_MAIL = "".join(chr(ord(c) + 0xFEE0) for c in "jane.roe@example.com")
CYRILLIC_O = "\u043e"


@pytest.mark.parametrize(
    ("text", "value", "entity"),
    [
        (f"write to {FULLWIDTH_MAIL} today", FULLWIDTH_MAIL, "EMAIL_ADDRESS"),
        (
            "write to jane.r\u200boe@exa\u200cmple.com",
            "jane.r\u200boe@exa\u200cmple.com",
            "EMAIL_ADDRESS",
        ),
        ("mail jane.roe\x00@example.com now", "jane.roe\x00@example.com", "EMAIL_ADDRESS"),
        (
            f"mail jane.r{CYRILLIC_O}e@example.com now",
            f"jane.r{CYRILLIC_O}e@example.com",
            "EMAIL_ADDRESS",
        ),
        (
            "card \uff14\uff11\uff11\uff11 1111 1111 1111 ok",
            "\uff14\uff11\uff11\uff11 1111 1111 1111",
            "CREDIT_CARD",
        ),
    ],
)
def test_look_alikes_are_found_on_the_original_characters(
    detector: PresidioDetector, text: str, value: str, entity: str
) -> None:
    (findings,) = detector.detect([("notes", text)])
    assert (entity, value) in [(f.entity_type, text[f.start : f.end]) for f in findings]


def test_a_lone_surrogate_fails_closed(detector: PresidioDetector) -> None:
    with pytest.raises(DetectionError):
        detector.detect([("notes", "jane@example.com \ud800")])


def test_a_long_text_is_read_whole_across_its_windows(detector: PresidioDetector) -> None:
    filler = "the weather was fine and nothing else happened that day. " * 3
    mails = [f"user{i}.name@example.com" for i in range(150)]
    text = "".join(f"{filler}write to {m} please. " for m in mails)
    assert len(text) > 25_000
    (findings,) = detector.detect([("notes", text)])
    got = {text[f.start : f.end] for f in findings if f.entity_type == "EMAIL_ADDRESS"}
    assert got == set(mails)


def test_the_time_budget_stops_a_long_text(detector: PresidioDetector) -> None:
    text = "Jane Roe wrote from Paris about her card. " * 2_000
    with budget.deadline(0.0), pytest.raises(RecordTooSlowError):
        detector.detect([("notes", text)])
