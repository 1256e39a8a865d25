"""The worker's pure core: one outcome per record, in order, failures as dead letters."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from streamsec.errors import KeyAccessError
from streamsec.events.audit import key_operation
from streamsec.events.batch import BatchEntries, entry_digest
from streamsec.events.signing import AuditIdentity
from streamsec.events.trail import AuditTrail
from streamsec.pipeline import headers as h
from streamsec.pipeline.events import AuditBatchError, RecordEvents
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

TOPOLOGY = "name: unit\ninput: raw.u\noutput: prot.u\nfields:\n  name: encrypt\n"


@pytest.fixture
def pipeline() -> RecordPipeline:
    return make_pipeline(
        parse_topology(TOPOLOGY), Settings(max_record_bytes=512, max_depth=3),
        worker_id="unit", provider=InMemoryKeyProvider(), detector=FakeDetector(fail_on="BOOM"),
    )


def src(offset: int, value: bytes | None, key: bytes | None = b"k") -> SourceRecord:
    return SourceRecord("raw.u", 2, offset, key, value, 1.0)


def good(i: int) -> bytes:
    return json.dumps({"id": i, "name": f"Ann {i}", "mail": f"a{i}@x.io"}).encode()


def test_one_outcome_per_record_in_order_with_chain_in_order(pipeline: RecordPipeline) -> None:
    """Batch granularity (the default): one event lists every record of the partition
    in order, protected or dead-lettered, then the signed checkpoint lists each
    entry's offset and digest; both go with the partition's last outcome."""
    batch = [src(0, good(0)), src(1, b"{bad"), src(2, good(2)), src(3, b'{"x": "BOOM"}')]
    outcomes = pipeline.process(batch)
    assert [o.source.offset for o in outcomes] == [0, 1, 2, 3]
    assert [o.reason for o in outcomes] == [None, "decode", None, "detection"]
    audit = [
        json.loads(m.value) for o in outcomes for m in o.messages if m.topic == "streamsec.audit"
    ]
    assert [e["seq"] for e in audit] == [0, 1]
    event, checkpoint = audit
    assert event["type"] == "io.streamsec.records.batch"
    assert event["subject"] == "raw.u/2/0-3"
    assert event["data"]["source"] == {"topic": "raw.u", "partition": 2}
    records = event["data"]["records"]
    assert [r["offset"] for r in records] == [0, 1, 2, 3]
    assert [r["outcome"] for r in records] == [
        "protected", "dead_lettered", "protected", "dead_lettered"
    ]
    assert [r.get("reason") for r in records] == [None, "decode", None, "detection"]
    assert [f["path"] for f in records[0]["fields"]] == ["name", "mail"]
    assert checkpoint["type"] == "io.streamsec.audit.checkpoint"
    assert checkpoint["data"]["digests"] == [event["digest"][:16]]
    assert checkpoint["data"]["records"] == [{
        "seq": 0, "offsets": [0, 1, 2, 3], "digests": [entry_digest(r) for r in records],
    }]
    assert checkpoint["sig"] and checkpoint["prev"] == event["digest"]
    assert [json.loads(m.value or b"") for m in outcomes[3].messages[-2:]] == audit
    assert all(m.topic != "streamsec.audit" for o in outcomes[:3] for m in o.messages)


def test_record_granularity_sends_one_event_per_record() -> None:
    pipeline = make_pipeline(
        parse_topology(TOPOLOGY), Settings(max_record_bytes=512, audit_granularity="record"),
        worker_id="unit", provider=InMemoryKeyProvider(), detector=FakeDetector(fail_on="BOOM"),
    )
    batch = [src(0, good(0)), src(1, b"{bad"), src(2, good(2)), src(3, b'{"x": "BOOM"}')]
    outcomes = pipeline.process(batch)
    audit = [
        json.loads(m.value) for o in outcomes for m in o.messages if m.topic == "streamsec.audit"
    ]
    assert [e["seq"] for e in audit] == [0, 1, 2, 3, 4]
    assert [e["data"]["record"]["offset"] for e in audit[:4]] == [0, 1, 2, 3]
    assert [e["type"].rsplit(".", 1)[1] for e in audit[:4]] == [
        "protected", "dead_lettered", "protected", "dead_lettered"
    ]
    checkpoint = audit[4]  # one signed checkpoint per batch and chain, sent last
    assert checkpoint["type"] == "io.streamsec.audit.checkpoint"
    assert checkpoint["data"]["digests"] == [e["digest"][:16] for e in audit[:4]]
    assert "records" not in checkpoint["data"]
    assert checkpoint["sig"] and checkpoint["prev"] == audit[3]["digest"]
    assert json.loads(outcomes[3].messages[-1].value or b"") == checkpoint


def test_a_batch_event_that_cannot_be_built_sends_nothing_and_moves_no_chain(
    pipeline: RecordPipeline, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fail closed: no record of the batch goes out without its audit, and the chain is
    as before (the next batch continues it where the last delivered one ended)."""
    (first,) = pipeline.process([src(0, good(0))])
    calls = {"n": 0}
    real = BatchEntries.event

    def broken(self: BatchEntries, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        raise RuntimeError("cannot build")

    monkeypatch.setattr(BatchEntries, "event", broken)
    with pytest.raises(AuditBatchError):
        pipeline.process([src(1, good(1)), src(2, b"{bad")])
    assert calls["n"] == 1
    monkeypatch.setattr(BatchEntries, "event", real)
    (again,) = pipeline.process([src(1, good(1))])
    audit = [json.loads(m.value) for o in (first, again) for m in o.messages
             if m.topic == "streamsec.audit"]
    assert [e["seq"] for e in audit] == [0, 1, 2, 3]
    assert [r["offset"] for r in audit[2]["data"]["records"]] == [1]
    assert audit[2]["prev"] == audit[1]["digest"]


def test_protected_outcome_sends_output_audit_lineage_and_no_value(
    pipeline: RecordPipeline,
) -> None:
    (outcome,) = pipeline.process([src(5, good(1), key=b"a1@x.io")])
    topics = [m.topic for m in outcome.messages]
    assert topics == ["prot.u", "streamsec.lineage", "streamsec.audit", "streamsec.audit"]
    out = outcome.messages[0]
    assert out.key is not None
    assert out.key.startswith(b"ssec:v2:")
    assert dict(out.headers)[h.SOURCE_OFFSET] == b"5"
    for message in outcome.messages:
        assert b"Ann 1" not in (message.value or b"")
        assert b"a1@x.io" not in (message.value or b"") + (message.key or b"")
    assert outcome.detections == ("EMAIL_ADDRESS", "EMAIL_ADDRESS")  # in the value, in the key
    assert "encrypt" in outcome.actions


def test_dead_letter_keeps_original_bytes_and_reason_only(pipeline: RecordPipeline) -> None:
    raw = b'{"name": "Ann", ' + b"x" * 600
    (outcome,) = pipeline.process([src(9, raw, key=b"\x00\x01")])
    dead = outcome.messages[0]
    assert outcome.reason == "too_large"
    assert dead.topic == "raw.u.dead-letter"
    assert (dead.key, dead.value) == (b"\x00\x01", raw)
    assert dict(dead.headers) == {
        h.REASON: b"too_large", h.TOPOLOGY: b"unit", h.SOURCE_TOPIC: b"raw.u",
        h.SOURCE_PARTITION: b"2", h.SOURCE_OFFSET: b"9",
    }
    audit = outcome.messages[1].value or b""
    assert b"Ann" not in audit
    (entry,) = json.loads(audit)["data"]["records"]
    assert (entry["offset"], entry["outcome"], entry["reason"]) == (9, "dead_lettered", "too_large")


@pytest.mark.parametrize(
    ("value", "key", "reason"),
    [
        (b'{"a": {"b": {"c": {"d": 1}}}}', b"k", "too_deep"),
        (b"[]", b"k", "decode"),
        (b'{"ok": 1}', b"\xff", "decode"),
    ],
)
def test_bad_records_get_their_reason(
    pipeline: RecordPipeline, value: bytes, key: bytes, reason: str
) -> None:
    (outcome,) = pipeline.process([src(0, value, key)])
    assert outcome.reason == reason
    assert [m.topic for m in outcome.messages] == [
        "raw.u.dead-letter", "streamsec.audit", "streamsec.audit",  # event, checkpoint
    ]


def test_a_protector_that_raises_fails_closed(pipeline: RecordPipeline) -> None:
    class Broken:
        def protect_many(self, records: Any) -> Any:
            raise RuntimeError("secret value Ann 0 inside")

    pipeline.protector = Broken()  # type: ignore[assignment]
    outcomes = pipeline.process([src(0, good(0)), src(1, good(1))])
    assert [o.reason for o in outcomes] == ["protection", "protection"]
    assert all(b"Ann 0" not in (m.value or b"") for m in outcomes[0].messages[1:])


def test_a_key_that_cannot_be_protected_is_dead_lettered(pipeline: RecordPipeline) -> None:
    def refuse(keys: Any) -> Any:
        raise KeyAccessError("keyring locked")

    pipeline.protector.protect_keys = refuse  # type: ignore[method-assign]
    (outcome,) = pipeline.process([src(0, good(0), key=b"k")])
    assert outcome.reason == "key_access"


def test_too_large_protected_output_is_dead_lettered(pipeline: RecordPipeline) -> None:
    pipeline.max_output_bytes = 60
    (outcome,) = pipeline.process([src(0, good(0))])
    assert outcome.reason == "too_large"


def test_tombstone_passes_with_null_value(pipeline: RecordPipeline) -> None:
    (outcome,) = pipeline.process([src(0, None, key=b"plain-key")])
    assert outcome.reason is None
    assert (outcome.messages[0].key, outcome.messages[0].value) == (b"plain-key", None)


def test_close_chains_emits_final_checkpoints(pipeline: RecordPipeline) -> None:
    pipeline.process([src(0, good(0))])
    (final,) = pipeline.close_chains([2])
    event = json.loads(final.value or b"")
    assert event["type"] == "io.streamsec.audit.checkpoint"
    assert event["data"]["final"] is True
    assert pipeline.close_chains([2]) == []


def _lineage(messages: Any) -> list[dict[str, Any]]:
    return [json.loads(m.value)["data"] for m in messages if m.topic == "streamsec.lineage"]


def test_lineage_run_starts_with_the_first_record_and_completes_at_stop(
    pipeline: RecordPipeline,
) -> None:
    from streamsec.testing.lineage_schema import LineageSchemaValidator

    outcomes = pipeline.process([src(0, good(0)), src(1, good(1))])
    started = _lineage(m for o in outcomes for m in o.messages)
    assert [e["eventType"] for e in started] == ["START"]
    ended = _lineage(pipeline.close_chains(None))
    assert [e["eventType"] for e in ended] == ["COMPLETE"]
    assert ended[0]["run"]["runId"] == started[0]["run"]["runId"]
    for event in started + ended:
        LineageSchemaValidator().validate(event)
        assert "Ann 0" not in json.dumps(event)


def test_lineage_reports_fail_after_a_crash_and_not_on_a_revoke(pipeline: RecordPipeline) -> None:
    pipeline.process([src(0, good(0))])
    assert _lineage(pipeline.close_chains([2])) == []
    (failed,) = _lineage(pipeline.close_chains(None, error=RuntimeError("Ann 0 broke it")))
    assert failed["eventType"] == "FAIL"
    assert "Ann 0" not in json.dumps(failed)


def test_a_new_shape_is_reported_as_running(pipeline: RecordPipeline) -> None:
    pipeline.events._lineage_heartbeat = 300.0
    pipeline.process([src(0, good(0))])
    tracker = pipeline.events._tracker_or_start()
    tracker._min_interval = 0.0
    new_shape = json.dumps({"id": 1, "name": "Bo", "extra": {"nested": True}}).encode()
    events = _lineage(m for o in pipeline.process([src(1, new_shape)]) for m in o.messages)
    assert [e["eventType"] for e in events] == ["RUNNING"]
    fields = {f["name"] for f in events[0]["inputs"][0]["facets"]["schema"]["fields"]}
    assert "extra.nested" in fields


def test_key_events_go_before_the_batch_event_and_survive_a_failed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key the worker created is audited in the chain before the records that use it;
    a batch event that cannot be built keeps it for the next batch."""
    trail = AuditTrail(AuditIdentity.ephemeral(), actor="unit", topology="unit")
    created = [[key_operation(worker_id="unit", operation="create", key_id="k1",
                              provider="local")]]
    events = RecordEvents(parse_topology(TOPOLOGY), trail,
                          key_events=lambda: created.pop() if created else [])
    events.protected(src(0, None), {}, ())
    monkeypatch.setattr(BatchEntries, "event", lambda *a, **k: 1 / 0)
    with pytest.raises(AuditBatchError):
        events.flush()
    assert events.checkpoints() == []  # no chain moved
    monkeypatch.undo()
    events.protected(src(1, None), {}, ())
    (sealed,) = events.flush().values()
    assert [(e["type"], e["seq"]) for e in sealed] == [
        ("io.streamsec.key.operation", 0), ("io.streamsec.records.batch", 1),
    ]
    assert [r["offset"] for r in sealed[1]["data"]["records"]] == [1]


def test_lineage_leaf_types_per_compiled_shape_are_those_of_each_record(
    pipeline: RecordPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaf types are derived once per compiled shape: every record of a shape gets
    exactly its own leaf types, and a record of another shape (a leaf of another type,
    a list of another length, a null) is not given those of the first."""
    from streamsec.events.lineage_shape import leaf_types
    from streamsec.pipeline import pipeline as module

    seen: list[tuple[dict[str, Any], dict[str, str]]] = []
    real = RecordPipeline._protected

    def spy(self: RecordPipeline, source: SourceRecord, *args: Any) -> Any:
        seen.append((json.loads(source.value or b"{}"), args[-1]))
        return real(self, source, *args)

    monkeypatch.setattr(RecordPipeline, "_protected", spy)
    variants: list[dict[str, Any]] = [
        {"id": 1, "name": "Ann", "tags": ["a", "b"]}, {"id": 2, "name": "Bo", "tags": ["c", "d"]},
        {"id": "3", "name": "Cy", "tags": ["a", "b"]}, {"id": 4, "name": "Di", "tags": ["a"]},
        {"id": 5, "name": "Ed", "tags": ["a", 7]}, {"id": None, "name": "Fa", "tags": []},
        {"id": 6.5, "name": "Gu", "tags": [{"k": True}]},
        {"id": 7, "name": "Ha", "tags": ["x", "y"]},
    ]
    batch = [src(i, json.dumps(v).encode()) for i, v in enumerate(variants * 3)]
    pipeline.process(batch)
    assert len(seen) == len(batch)
    for record, leaves in seen:
        assert dict(leaves) == leaf_types(record)
    assert 0 < len(pipeline._leaves) <= module._SHAPES_KEPT


def test_a_batch_of_failures_leaves_no_reference_cycle_holding_its_records(
    pipeline: RecordPipeline,
) -> None:
    """A failure kept as data (a dead letter's reason) held its traceback, whose frames
    held the batch and the failure: a cycle that only a full collection freed. A
    worker collects rarely (thresholds 20000/20/20), so a backlog of 500 kB dead
    letters took it past 1 GB. Every way a record fails here leaves nothing for the
    collector: the records go when the batch does."""
    batch = [
        src(0, good(0)), src(1, b"{bad"), src(2, b'{"x": "BOOM"}'),
        src(3, b'{"a": {"b": {"c": {"d": 1}}}}'), src(4, b'{"ok": 1}', key=b"\xff"),
        src(5, json.dumps({"name": "x" * 600}).encode()),
    ]
    pipeline.process(batch[:1])  # caches and shapes made before the measured batch
    gc.collect()
    flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection would free is kept to look at
    try:
        outcomes = pipeline.process(batch)
        assert [o.reason for o in outcomes] == [
            None, "decode", "detection", "too_deep", "decode", "too_large",
        ]
        del outcomes
        gc.collect()
        garbage = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()
    assert garbage == []
