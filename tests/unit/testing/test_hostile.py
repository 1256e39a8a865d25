"""The hostile mix covers the kinds of issue 16, and the real pipeline meets every
record's expectation offline: its outcome, its reason, and no value in clear."""

from __future__ import annotations

from collections import Counter

import pytest

from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing.hostile import HEAVY_KINDS, KINDS, clear_forms, hostile_mix
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

ISSUE_KINDS = {
    "invalid_utf8", "invalid_json", "top_array", "top_string", "top_number", "nesting_100",
    "deep_list_50k", "record_2mb", "just_over_1mib", "array_200k", "string_500k", "fields_10k",
    "nan", "infinity", "huge_float", "huge_int", "duplicate_keys", "email_keys", "nul_in_mail",
    "fullwidth_mail", "fullwidth_phone", "homoglyph_mail", "zero_width_mail", "empty_values",
    "tombstone",
}


def test_the_mix_covers_the_issue_and_is_reproducible() -> None:
    assert set(KINDS) | set(HEAVY_KINDS) >= ISSUE_KINDS
    mix = hostile_mix(300, heavy=1)
    assert len(mix) == 300 and len({r.key for r in mix}) == 300
    assert set(Counter(r.kind for r in mix)) == set(KINDS) | set(HEAVY_KINDS)
    assert [r.value for r in mix] == [r.value for r in hostile_mix(300, heavy=1)]
    sizes = {r.kind: len(r.value or b"") for r in mix}
    assert sizes["record_2mb"] == 2_000_000 and 1_048_576 < sizes["just_over_1mib"] < 1_049_000


@pytest.mark.slow
def test_the_real_pipeline_meets_every_expectation() -> None:
    mix = hostile_mix(260, seed=3, heavy=1)
    pipeline = make_pipeline(
        parse_topology("name: h\ninput: raw.h\noutput: prot.h\n"), Settings(),
        worker_id="unit", provider=InMemoryKeyProvider(),
    )
    wrong: Counter[tuple[str, str | None, str | None]] = Counter()
    leaked: Counter[str] = Counter()
    for start in range(0, len(mix), 64):
        chunk = mix[start : start + 64]
        sources = [SourceRecord("raw.h", 0, start + i, r.key, r.value) for i, r in enumerate(chunk)]
        for record, outcome in zip(chunk, pipeline.process(sources), strict=True):
            got = "dead" if outcome.reason else "protected"
            if record.expect != "either" and (
                got != record.expect or (record.reason and record.reason != outcome.reason)
            ):
                wrong[(record.kind, record.reason, outcome.reason)] += 1
            for message in outcome.messages:
                if message.topic == "raw.h.dead-letter":
                    continue
                text = b"".join(
                    [message.key or b"", message.value or b"", *(v for _, v in message.headers)]
                ).decode("utf-8", "replace")
                for secret in record.secrets:
                    if any(form in text for form in clear_forms(secret)):
                        leaked[record.kind] += 1
    assert not wrong, dict(wrong)
    assert not leaked, dict(leaked)
