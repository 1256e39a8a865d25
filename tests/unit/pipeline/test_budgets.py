"""Bounded work per record: limits, the time budget, and dead letters that always fit."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

import pytest

from streamsec.classification.model import Finding
from streamsec.detection import budget
from streamsec.pipeline import headers as h
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.pipeline import MAX_OUTPUT_BYTES, REFERENCE_FORM, RecordPipeline
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

TOPOLOGY = "name: unit\ninput: raw.u\noutput: prot.u\n"
BUDGET = 0.3


class SlowDetector(FakeDetector):
    """Works 0.05 s per chunk on a value holding SLOW (forever, unless the budget stops it)."""

    def detect(self, items: Sequence[tuple[str, str]]) -> list[tuple[Finding, ...]]:
        for _, text in items:
            if "SLOW" in text:
                for _ in range(1_000):
                    time.sleep(0.05)
                    budget.check()
        return super().detect(items)


def pipeline(**settings: object) -> RecordPipeline:
    defaults: dict[str, object] = {
        "max_record_bytes": 3_000_000, "max_fields": 1_000, "max_text_chars": 2_500_000,
        "record_time_budget": BUDGET,
    }
    return make_pipeline(
        parse_topology(TOPOLOGY), Settings(**{**defaults, **settings}),  # type: ignore[arg-type]
        worker_id="unit", provider=InMemoryKeyProvider(), detector=SlowDetector(),
    )


def src(offset: int, value: bytes | None, key: bytes | None = b"k") -> SourceRecord:
    return SourceRecord("raw.u", 1, offset, key, value, 1.0)


def record(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_a_slow_record_is_too_slow_and_holds_the_batch_for_about_its_budget() -> None:
    p = pipeline()
    batch = [src(0, record(mail="a@x.io")), src(1, record(note="SLOW a@x.io")),
             src(2, record(mail="b@x.io"))]
    started = time.monotonic()
    outcomes = p.process(batch)
    took = time.monotonic() - started
    assert [o.reason for o in outcomes] == [None, "too_slow", None]
    # light batch: 3 x budget, then the slow one alone: one more budget (+ one chunk each)
    assert took < 4 * BUDGET + 2.0  # the slow record alone would take 50 s


def test_a_heavy_slow_record_is_alone_under_its_own_budget() -> None:
    p = pipeline()
    heavy = record(note="SLOW " + "word " * 10_000)
    started = time.monotonic()
    outcomes = p.process([src(0, record(mail="a@x.io")), src(1, heavy)])
    assert [o.reason for o in outcomes] == [None, "too_slow"]
    assert time.monotonic() - started < BUDGET + 1.5  # 50 s without the budget


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (json.dumps({f"f{i}": i for i in range(1_001)}).encode(), "too_many_fields"),
        (json.dumps({"a": list(range(5_000))}).encode(), "too_many_fields"),
        (record(text="x" * 2_600_000), "too_large"),
        (b'{"a": 1e400}', "bad_number"),
        (b'{"a": NaN}', "bad_number"),
        (b'{"a": 1, "a": 2}', "duplicate_key"),
        (b'{"a": "\\udc00"}', "bad_unicode"),
        (b'{"a": ' + b"1" * 5_000 + b"}", "bad_number"),
        (b"[" * 50_000 + b"]" * 50_000, "too_deep"),
    ],
)
def test_every_limit_has_its_reason(value: bytes, reason: str) -> None:
    (outcome,) = pipeline().process([src(0, value)])
    assert outcome.reason == reason


def test_a_record_with_a_huge_key_is_too_large_without_scanning() -> None:
    (outcome,) = pipeline().process([src(0, record(a=1), key=b"SLOW" * 5_000)])
    assert outcome.reason == "too_large"


def test_a_record_too_large_to_copy_is_dead_lettered_as_a_reference() -> None:
    raw = record(note="jane@example.com " * 130_000)  # ~2.2 MB
    (outcome,) = pipeline(max_record_bytes=1_048_576).process([src(7, raw, key=b"k1")])
    assert outcome.reason == "too_large"
    dead = outcome.messages[0]
    assert dead.topic == "raw.u.dead-letter"
    assert len(dead.value or b"") < MAX_OUTPUT_BYTES
    assert b"jane@example.com" not in (dead.value or b"")
    ref = json.loads(dead.value or b"")
    assert ref["form"] == REFERENCE_FORM
    assert (ref["topic"], ref["partition"], ref["offset"]) == ("raw.u", 1, 7)
    assert ref["value_bytes"] == len(raw) and ref["reason"] == "too_large"
    assert dict(dead.headers)[h.FORM] == b"reference"
    assert dict(dead.headers)[h.REASON] == b"too_large"
    assert dead.key == b"k1"


def test_a_normal_dead_letter_keeps_its_bytes() -> None:
    raw = b'{"a": 1, "a": 2}'
    (outcome,) = pipeline().process([src(0, raw)])
    assert outcome.messages[0].value == raw
    assert h.FORM not in dict(outcome.messages[0].headers)
