from __future__ import annotations

import itertools
import time

import pytest

from streamsec.detection import budget
from streamsec.detection.chunks import CHUNK_OVERLAP, windows
from streamsec.errors import RecordTooSlowError


def test_short_text_is_one_window() -> None:
    assert windows("short text") == [(0, 10)]


@pytest.mark.parametrize("text", ["word " * 5000, "x" * 30_000, ("line\n" + "a b " * 300) * 20])
def test_windows_cover_the_text_and_overlap(text: str) -> None:
    spans = windows(text, size=2_000, overlap=CHUNK_OVERLAP)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (s1, e1), (s2, e2) in itertools.pairwise(spans):
        assert e1 - s1 <= 2_000
        assert s1 < s2 < e1 < e2
        assert e1 - s2 >= CHUNK_OVERLAP // 2  # an entity this long is seen whole


def test_budget_is_checked_and_scoped() -> None:
    budget.check()  # no budget: never raises
    with budget.deadline(0.01):
        time.sleep(0.02)
        with pytest.raises(RecordTooSlowError) as err:
            budget.check()
        assert err.value.reason == "too_slow"
    budget.check()
    assert budget.remaining() is None


def test_a_stop_fails_every_check_until_resumed() -> None:
    try:
        budget.stop_all()
        assert budget.stopping()
        with pytest.raises(RecordTooSlowError):
            budget.check()
    finally:
        budget.resume()
    budget.check()
