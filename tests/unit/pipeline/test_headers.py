"""Input headers are forwarded fail-closed; audit events carry the CloudEvents content type."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from streamsec.classification.model import Sensitivity
from streamsec.pipeline import headers as h
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.runtime import make_pipeline
from streamsec.protection.result import FieldAction
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

TRACEPARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
DEFAULT = h.parse_forward_list(Settings().forward_headers)


def test_the_default_forwards_a_w3c_traceparent_only() -> None:
    incoming = [
        ("traceparent", TRACEPARENT),
        ("baggage", b"user=ann@example.com"),
        ("x-customer-email", b"ann@example.com"),
        ("streamsec.reason", b"forged"),
    ]
    assert frozenset({"traceparent"}) == DEFAULT
    assert h.forwardable(incoming, DEFAULT) == (("traceparent", TRACEPARENT),)


def test_a_traceparent_that_could_carry_text_is_dropped() -> None:
    for value in (b"00-ann@example.com-00f067aa0ba902b7-01", TRACEPARENT + b" ann", b""):
        assert h.forwardable([("traceparent", value)], DEFAULT) == ()


def test_allowed_names_are_case_insensitive_and_never_ours() -> None:
    allowed = h.parse_forward_list(" TraceState, x-request-id, streamsec.key-ids ")
    assert allowed == frozenset({"tracestate", "x-request-id"})
    incoming = [("x-request-id", b"r-1"), ("tracestate", b"vendor=abc,other=x1"),
                ("tracestate", b"not a tracestate"), ("streamsec.key-ids", b"k1")]
    assert h.forwardable(incoming, allowed) == (
        ("x-request-id", b"r-1"), ("tracestate", b"vendor=abc,other=x1"),
    )
    assert h.forwardable([("x-request-id", b"x" * 600)], allowed) == ()  # size bound


def test_forwarded_headers_reach_the_protected_record_not_the_dead_letter() -> None:
    topology = parse_topology("name: u\ninput: raw.u\noutput: prot.u\nfields:\n  name: encrypt\n")
    pipeline = make_pipeline(
        topology, Settings(), worker_id="w", provider=InMemoryKeyProvider(),
        detector=FakeDetector(),
    )
    fwd = (("traceparent", TRACEPARENT),)
    good = SourceRecord("raw.u", 0, 1, b"k", json.dumps({"name": "Ann"}).encode(), None, fwd)
    bad = SourceRecord("raw.u", 0, 2, b"k", b"{bad", None, fwd)
    protected, dead = pipeline.process([good, bad])
    out = protected.messages[0]
    assert out.topic == "prot.u"
    assert dict(out.headers)["traceparent"] == TRACEPARENT
    assert "traceparent" not in dict(dead.messages[0].headers)
    audit = [m for o in (protected, dead) for m in o.messages if m.topic == topology.audit]
    assert audit
    for message in audit:
        assert dict(message.headers)["content-type"] == b"application/cloudevents+json"
        assert json.loads(message.value or b"")["specversion"] == "1.0"


def test_lineage_events_are_cloudevents_holding_the_openlineage_run_event() -> None:
    from streamsec.events.cloudevents import cloudevent_problems

    topology = parse_topology("name: u\ninput: raw.u\noutput: prot.u\n")
    pipeline = make_pipeline(
        topology, Settings(), worker_id="w", provider=InMemoryKeyProvider(),
        detector=FakeDetector(),
    )
    (outcome,) = pipeline.process([SourceRecord("raw.u", 0, 1, b"k", b'{"a": 1}')])
    (message,) = [m for m in outcome.messages if m.topic == topology.lineage]
    assert dict(message.headers)["content-type"] == b"application/cloudevents+json"
    event = json.loads(message.value or b"")
    assert cloudevent_problems(event) == []
    assert event["type"] == "io.openlineage.run.start"
    assert event["data"]["eventType"] == "START"
    assert event["dataschema"] == event["data"]["schemaURL"]
    assert event["time"] == event["data"]["eventTime"]
    again = h.lineage_cloudevent(event["data"])
    assert again["id"] == event["id"]  # a resend is the same event


def _reference_headers(
    topology: Any, source: SourceRecord, actions: Sequence[FieldAction]
) -> tuple[tuple[str, bytes], ...]:
    """The summary as it was first written (four passes, ``max`` by rank): the one-pass
    form must give the same headers, byte for byte and in the same order."""
    ranks = {s.value: s.rank for s in Sensitivity}
    levels = [a.sensitivity for a in actions if a.sensitivity in ranks]
    highest = max(levels, key=lambda s: ranks[s or ""], default=None)
    return (
        (h.TOPOLOGY, topology.name.encode()),
        (h.TOPOLOGY_VERSION, str(topology.version).encode()),
        (h.CATEGORIES, ",".join(sorted({a.category for a in actions if a.category})).encode()),
        (h.SENSITIVITY, (highest or "").encode()),
        (h.ENTITIES, ",".join(sorted({e for a in actions for e in a.entity_types})).encode()),
        (h.KEY_IDS, ",".join(sorted({a.key_id for a in actions if a.key_id})).encode()),
        (h.SOURCE_TOPIC, source.topic.encode()),
        (h.SOURCE_PARTITION, str(source.partition).encode()),
        (h.SOURCE_OFFSET, str(source.offset).encode()),
        *source.headers,
    )


def test_the_classification_summary_matches_its_reference_form() -> None:
    rng = random.Random(5)
    topology = parse_topology("name: t-1\ninput: in\noutput: out\n")
    texts = [None, "", "PII", "PCI", "ünï", "a,b", "public", "internal", "confidential",
             "restricted", "secret"]
    for _ in range(2000):
        actions = [
            FieldAction(
                path="p", action="encrypt", mode="field",
                entity_types=tuple(rng.sample(["EMAIL", "É", "b", "a"], rng.randint(0, 3))),
                category=rng.choice(texts), sensitivity=rng.choice(texts), source="policy",
                key_id=rng.choice([None, "", "k1", "k2", "ké"]),
            )
            for _ in range(rng.randint(0, 6))
        ]
        source = SourceRecord("raw.ü", rng.randrange(9), rng.randrange(10**12), None, b"{}", 0.0,
                              (("traceparent", TRACEPARENT),) if rng.random() < 0.5 else ())
        assert h.protected_headers(topology, source, actions) == _reference_headers(
            topology, source, actions
        )
