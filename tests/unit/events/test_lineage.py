from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streamsec.errors import DecryptionError
from streamsec.events.lineage import column_lineage_facet, kafka_namespace
from streamsec.events.lineage_shape import ObservedShape, leaf_types
from streamsec.events.lineage_tracker import LineageTracker
from streamsec.protection.result import FieldAction
from streamsec.testing.lineage_schema import LineageSchemaValidator
from streamsec.topology.model import Topology
from tests.unit.events.conftest import ACTIONS

RECORD = {
    "customer_id": 42,
    "email": "a@b.example",
    "card": {"number": "4111", "exp": "12/30"},
    "note": "hello",
    "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 1.5}],
}


@pytest.fixture(scope="module")
def validator() -> LineageSchemaValidator:
    return LineageSchemaValidator()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _tracker(topology: Topology, clock: Clock, **kwargs: Any) -> LineageTracker:
    return LineageTracker(
        topology, bootstrap="PLAINTEXT://broker-1:29092,broker-2:29092", clock=clock, **kwargs
    )


def _fields(event: dict[str, Any], side: str = "outputs") -> dict[str, Any]:
    facets: dict[str, Any] = event[side][0]["facets"]
    return facets


def test_every_run_state_validates_against_the_openlineage_schemas(
    topology: Topology, validator: LineageSchemaValidator
) -> None:
    clock = Clock()
    tracker = _tracker(topology, clock, min_interval=0)
    events = [tracker.start(), tracker.observe(leaf_types(RECORD), ACTIONS), tracker.complete()]
    other = _tracker(topology, clock)
    other.start()
    try:
        raise DecryptionError("tag mismatch for 4111", path="card.number")
    except DecryptionError as exc:
        events.append(other.fail(exc))
    assert [e["eventType"] for e in events if e] == ["START", "RUNNING", "COMPLETE", "FAIL"]
    for event in events:
        validator.validate(event)


def test_job_run_and_dataset_naming(topology: Topology) -> None:
    event = _tracker(topology, Clock()).start()
    assert event["job"]["namespace"] == "streamsec"
    assert event["job"]["name"] == "payments"
    job_type = event["job"]["facets"]["jobType"]
    assert (job_type["processingType"], job_type["integration"], job_type["jobType"]) == (
        "STREAMING",
        "STREAMSEC",
        "TOPOLOGY",
    )
    assert event["run"]["facets"]["processing_engine"]["name"] == "streamsec"
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [
        ("kafka://broker-1:29092", "raw.payments")
    ]
    assert [d["name"] for d in event["outputs"]] == ["safe.payments", "raw.payments.dead-letter"]


def test_column_lineage_identity_for_kept_and_masking_for_protected_fields(
    topology: Topology,
) -> None:
    shape = ObservedShape(topology)
    shape.add(leaf_types(RECORD), ACTIONS)
    facet = column_lineage_facet(shape, namespace="kafka://k:9092", input_topic="raw.payments")
    fields = facet["fields"]
    assert set(fields) == {
        "customer_id",
        "email",
        "card.number",
        "card.exp",
        "note",
        "items[*].sku",
        "items[*].qty",
    }

    def only(name: str) -> dict[str, Any]:
        (source,) = fields[name]["inputFields"]
        assert source["namespace"] == "kafka://k:9092"
        assert source["name"] == "raw.payments"
        assert source["field"] == name
        (transformation,) = source["transformations"]
        return transformation  # type: ignore[no-any-return]

    assert only("customer_id") == {"type": "DIRECT", "subtype": "IDENTITY", "masking": False}
    assert only("card.exp") == {"type": "DIRECT", "subtype": "IDENTITY", "masking": False}
    assert only("email") == {
        "type": "DIRECT",
        "subtype": "TRANSFORMATION",
        "description": "encrypt (deterministic)",
        "masking": True,
    }
    assert only("card.number")["masking"] is True
    assert only("note")["description"] == "encrypt (inline)"


def test_start_already_names_the_declared_fields(topology: Topology) -> None:
    event = _tracker(topology, Clock()).start()
    lineage = _fields(event)["columnLineage"]["fields"]
    assert set(lineage) == {"customer_id", "email", "card.number"}
    assert lineage["customer_id"]["inputFields"][0]["transformations"][0]["subtype"] == "IDENTITY"


def test_dropped_fields_leave_the_output_and_a_whole_object_rule_maps_many_to_one() -> None:
    topology = Topology.model_validate(
        {"name": "t", "input": "a", "output": "b", "fields": {"secret": "drop", "card": "encrypt"}}
    )
    shape = ObservedShape(topology)
    shape.add(
        {"secret": "string", "card.number": "string", "card.exp": "string", "x": "integer"},
        [FieldAction("card", "encrypt", "field", (), "PCI", "restricted", "rule")],
    )
    outputs = shape.output_paths()
    assert outputs == {"card": ["card.exp", "card.number"], "x": ["x"]}
    facet = column_lineage_facet(shape, namespace="kafka://k:9092", input_topic="a")
    assert all(f["transformations"][0]["masking"] for f in facet["fields"]["card"]["inputFields"])


def test_input_schema_and_tags_carry_the_classification(topology: Topology) -> None:
    event = _tracker(topology, Clock(), min_interval=0)
    event.start()
    running = event.observe(leaf_types(RECORD), ACTIONS)
    assert running is not None
    facets = _fields(running, "inputs")
    schema = {f["name"]: f for f in facets["schema"]["fields"]}
    assert schema["email"]["type"] == "string"
    assert schema["email"]["description"] == "PII; sensitivity confidential; entities EMAIL_ADDRESS"
    assert schema["items[*].qty"]["type"] == "integer|number"
    assert "description" not in schema["card.exp"]
    tags = {(t["field"], t["key"], t["value"]) for t in facets["tags"]["tags"]}
    assert ("card.number", "classification", "PCI") in tags
    assert ("card.number", "sensitivity", "restricted") in tags
    output = {f["name"]: f for f in _fields(running)["schema"]["fields"]}
    assert output["customer_id"]["type"] == "integer"
    assert output["email"]["description"].startswith("encrypt (deterministic) of PII")


def test_running_is_emitted_on_change_rate_limited_and_on_heartbeat(topology: Topology) -> None:
    clock = Clock()
    tracker = _tracker(topology, clock, min_interval=10, heartbeat=300)
    tracker.start()
    leaves = leaf_types(RECORD)
    assert tracker.observe(leaves, ACTIONS) is None  # changed, but too soon after START
    clock.advance(11)
    assert tracker.observe(leaves, ACTIONS) is not None  # the pending change goes out
    clock.advance(20)
    assert tracker.observe(leaves, ACTIONS) is None  # same shape: nothing new
    extra = FieldAction("ssn", "hash", "field", ("US_SSN",), "PII", "restricted", "policy")
    assert tracker.observe({**leaves, "ssn": "string"}, [extra]) is not None  # new field
    clock.advance(20)
    changed = FieldAction(
        "email", "encrypt", "field", ("EMAIL_ADDRESS",), "PHI", "restricted", "rule"
    )
    assert tracker.observe(leaves, [changed]) is not None  # new classification of a field
    clock.advance(299)
    assert tracker.tick() is None
    clock.advance(2)
    heartbeat = tracker.tick()
    assert heartbeat is not None
    assert heartbeat["eventType"] == "RUNNING"


def test_lifecycle_misuse_is_refused(topology: Topology) -> None:
    tracker = _tracker(topology, Clock())
    with pytest.raises(RuntimeError):
        tracker.observe({}, [])
    tracker.start()
    with pytest.raises(RuntimeError):
        tracker.start()
    assert tracker.complete()["eventType"] == "COMPLETE"
    with pytest.raises(RuntimeError):
        tracker.complete()
    with pytest.raises(RuntimeError):
        tracker.fail(ValueError())
    with pytest.raises(ValueError, match="heartbeat"):
        _tracker(topology, Clock(), heartbeat=0)


def test_fail_reports_the_error_type_and_frames_but_never_the_message(topology: Topology) -> None:
    tracker = _tracker(topology, Clock())
    tracker.start()

    def inner() -> None:
        raise KeyError("jane.roe@example.org")

    try:
        inner()
    except KeyError as exc:
        event = tracker.fail(exc)
    facet = event["run"]["facets"]["errorMessage"]
    assert facet["message"] == "KeyError"
    assert facet["programmingLanguage"] == "PYTHON"
    assert "in inner" in facet["stackTrace"]
    assert "jane.roe" not in str(event)


def test_field_count_is_capped(topology: Topology) -> None:
    shape = ObservedShape(topology, max_fields=5)
    shape.add({f"k{i}": "string" for i in range(10)}, [])
    assert len(shape.input_paths()) == 5
    assert shape.overflow


@pytest.mark.parametrize(
    ("bootstrap", "namespace"),
    [
        ("localhost:9092", "kafka://localhost:9092"),
        ("broker", "kafka://broker:9092"),
        ("SASL_SSL://b1:9093,b2:9093", "kafka://b1:9093"),
        ("[::1]:19092", "kafka://[::1]:19092"),
        ("[::1]", "kafka://[::1]:9092"),
    ],
)
def test_kafka_namespace(bootstrap: str, namespace: str) -> None:
    assert kafka_namespace(bootstrap) == namespace


def _mutations() -> Iterator[tuple[str, Any]]:
    def drop_run_id(e: dict[str, Any]) -> None:
        del e["run"]["runId"]

    def bad_state(e: dict[str, Any]) -> None:
        e["eventType"] = "PAUSED"

    def bad_column_lineage(e: dict[str, Any]) -> None:
        e["outputs"][0]["facets"]["columnLineage"]["fields"]["email"] = {"x": 1}

    def unknown_facet(e: dict[str, Any]) -> None:
        e["run"]["facets"]["mine"] = {"_producer": "urn:x", "_schemaURL": "urn:y"}

    def wrong_facet_url(e: dict[str, Any]) -> None:
        e["job"]["facets"]["jobType"]["_schemaURL"] = "https://example.com/x.json"

    def not_uuid(e: dict[str, Any]) -> None:
        e["run"]["runId"] = "run-1"

    def missing_processing_type(e: dict[str, Any]) -> None:
        del e["job"]["facets"]["jobType"]["processingType"]

    for mutate in (
        drop_run_id,
        bad_state,
        bad_column_lineage,
        unknown_facet,
        wrong_facet_url,
        not_uuid,
        missing_processing_type,
    ):
        yield mutate.__name__, mutate


@pytest.mark.parametrize(("name", "mutate"), list(_mutations()))
def test_the_validator_rejects_broken_events(
    topology: Topology, validator: LineageSchemaValidator, name: str, mutate: Any
) -> None:
    event = _tracker(topology, Clock()).start()
    validator.validate(event)
    broken = copy.deepcopy(event)
    mutate(broken)
    assert validator.errors(broken), name


def test_a_record_seen_before_changes_nothing_and_a_new_type_or_action_does(
    topology: Topology,
) -> None:
    shape = ObservedShape(topology)
    assert shape.add(leaf_types(RECORD), ACTIONS)
    assert not shape.add(leaf_types(RECORD), ACTIONS)
    assert not shape.add(leaf_types(RECORD), list(ACTIONS))  # any iterable
    assert shape.add({**leaf_types(RECORD), "customer_id": "string"}, ACTIONS)
    assert shape.inputs["customer_id"].types == {"integer", "string"}
    hashed = [FieldAction("email", "hash", "field", ("EMAIL_ADDRESS",), "PII", "confidential",
                          "policy")]
    assert shape.add(leaf_types(RECORD), hashed)
    assert "hash" in shape.protected["email"].actions
