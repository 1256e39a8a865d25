"""Batch events: entries as the per-record events hold them, and the writer's spliced
canonical bytes identical to the reference form of the same event."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import rfc8785

from streamsec.errors import DecodeError, KeyAccessError
from streamsec.events.audit import (
    RecordRef,
    dead_letter_entry,
    protected_entry,
    record_dead_lettered,
    record_protected,
)
from streamsec.events.batch import BatchEntries, entry_digest, read_records, unpack
from streamsec.events.canonical import (
    CanonicalizationError,
    Precanonical,
    canonical_json,
    compute_digest,
    wire,
)
from streamsec.events.chain import AuditChain
from streamsec.events.cloudevents import cloudevent_problems
from tests.unit.events.conftest import ACTIONS, SIGNER, payments_topology

TOPOLOGY = payments_topology()


def _batch(paths: tuple[str, ...] = ()) -> BatchEntries:
    batch = BatchEntries("raw.payments", 3)
    for offset in range(5):
        ref = RecordRef("raw.payments", 3, 100 + offset, f"p{offset}" if offset % 2 else None)
        if offset == 2:
            batch.add(dead_letter_entry(ref, KeyAccessError("no key", key_id="k1", path="a.b")))
        else:
            batch.add(protected_entry(ref, ACTIONS[: 1 + offset % 3]))
    for i, path in enumerate(paths):
        entry = protected_entry(RecordRef("raw.payments", 3, 200 + i), ACTIONS[:1])
        entry["fields"][0]["path"] = path
        batch.add(entry)
    return batch


def test_entries_hold_exactly_what_the_per_record_events_hold() -> None:
    ref = RecordRef("raw.payments", 3, 7, "hmac:abc")
    single = record_protected(TOPOLOGY, ref, ACTIONS, worker_id="w")["data"]
    entry = protected_entry(ref, ACTIONS)
    assert entry["fields"] == single["fields"] and entry["key_ids"] == single["key_ids"]
    assert (entry["offset"], entry["key_pseudonym"]) == (7, "hmac:abc")
    error = DecodeError("secret value 4111 1111 1111 1111 inside", path="card.number")
    dead = record_dead_lettered(TOPOLOGY, ref, error, worker_id="w")["data"]
    entry = dead_letter_entry(ref, error)
    for name in ("reason", "error_type", "path"):
        assert entry[name] == dead[name]
    assert "4111" not in json.dumps(entry) and entry["outcome"] == "dead_lettered"


@pytest.mark.parametrize("paths", [
    (), ("ünïcödé", "€uro", "\U0001f600emoji", "quote\"back\\slash", "tab\tnl\n"),
    ("\x00streamsec.precanonical\x00",),  # the splice marker itself, in an entry
])
def test_spliced_bytes_are_the_reference_canonical_form(paths: tuple[str, ...]) -> None:
    batch = _batch(paths)
    event = batch.event(TOPOLOGY, worker_id="w1")
    assert type(event["data"]["records"]) is Precanonical
    plain = copy.deepcopy(event)
    plain["data"]["records"] = [dict(e) for e in event["data"]["records"]]
    assert type(plain["data"]["records"]) is list
    assert wire(event) == canonical_json(plain) == rfc8785.dumps(plain)
    assert compute_digest(event) == compute_digest(plain)
    sealed = AuditChain(SIGNER, worker_id="w1", scope="payments", partition=3).append(
        event, batch.records())[0]
    assert cloudevent_problems(sealed) == []
    parsed = json.loads(wire(sealed))  # what a verifier reads
    assert compute_digest(parsed) == sealed["digest"]
    assert unpack(read_records(parsed["data"]) or b"") == [
        (o, bytes.fromhex(d)) for o, d in zip(*batch.records(), strict=True)
    ]


def test_the_event_marker_in_the_envelope_falls_back_to_the_full_form() -> None:
    event = _batch().event(TOPOLOGY, worker_id="\x00streamsec.precanonical\x00")
    plain = dict(event, data=dict(event["data"], records=list(event["data"]["records"])))
    assert wire(event) == canonical_json(plain)


def test_an_entry_that_cannot_be_canonicalised_is_refused_and_not_listed() -> None:
    batch = _batch()
    bad = protected_entry(RecordRef("raw.payments", 3, 999), ACTIONS[:1])
    bad["fields"][0]["path"] = "lone \ud800 surrogate"
    with pytest.raises(CanonicalizationError):
        batch.add(bad)
    assert len(batch) == 5 and 999 not in batch.records()[0]
    assert batch.records()[1] == tuple(entry_digest(e) for e in batch.entries)


def test_hostile_records_lists_never_raise() -> None:
    hostile: list[Any] = [None, 5, "x", {"offset": -3}, {"offset": 2**70}, {"offset": True},
                          {"offset": 1, "p": float("nan")}]
    got = unpack(read_records({"records": hostile}) or b"")
    assert [o for o, _ in got] == [-1, -1, -1, -1, -1, -1, 1]
    assert read_records({"records": "nope"}) is None and read_records(None) is None
