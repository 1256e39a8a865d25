"""No record value reaches an audit or lineage event: not in clear, not masked, not encrypted.

Records with known values go through the real protector (fake detector, in-memory
keys); the events are built from the resulting field actions and searched for
every value, its masked and encrypted forms, and the record key.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamsec.errors import DecodeError
from streamsec.events.audit import RecordRef, record_dead_lettered, record_protected
from streamsec.events.chain import AuditChain
from streamsec.events.lineage_shape import leaf_types
from streamsec.events.lineage_tracker import LineageTracker
from streamsec.events.signing import Pseudonymizer
from streamsec.protection.protector import Protector
from streamsec.records.paths import iter_leaves
from streamsec.testing import FakeDetector
from streamsec.testing.keys import in_memory_cipher
from streamsec.topology.loader import parse_topology
from tests.unit.events.conftest import PSEUDONYM_KEY, SIGNER

TOPOLOGY = """
name: leaks
input: raw.leaks
output: safe.leaks
fields:
  customer_id: keep
  email: {action: encrypt, deterministic: true}
  card.number: {action: mask, keep_last: 4}
  ssn: hash
  contact.phone: redact
"""
KNOWN = {"Jane Roe": "PERSON", "Quentin Blackwood": "PERSON", "Zanzibar Lane": "LOCATION"}
RECORDS: list[dict[str, Any]] = [
    {
        "customer_id": "CUST-9QX7",
        "email": "jane.roe@example.org",
        "card": {"number": "4929 3813 3266 4295", "exp": "11/29"},
        "ssn": "512-44-8871",
        "contact": {"phone": "+1 415-555-0134"},
        "note": "Quentin Blackwood moved to Zanzibar Lane, mail q.blackwood@example.net",
    },
    {
        "customer_id": "CUST-2KD8",
        "email": "zed.quux@example.com",
        "card": {"number": "5500 0055 5555 5559", "exp": "01/31"},
        "ssn": "623-18-0042",
        "contact": {"phone": "+44 207-946-0958"},
        "tags": ["Jane Roe", "vip"],
    },
]
RECORD_KEYS = [b"CUST-9QX7", b"CUST-2KD8"]


def _needles(record: dict[str, Any], protected: dict[str, Any]) -> set[str]:
    """Every value and the protected forms of it, worth searching for (>= 5 chars)."""
    found: set[str] = set()
    for doc in (record, protected):
        for _location, value in iter_leaves(doc):
            text = str(value)
            if len(text) >= 5 and text not in ("field", "inline"):
                found.add(text)
    for _location, value in iter_leaves(record):
        text = str(value)
        found.update(part for part in text.split() if len(part) >= 5)
        digits = "".join(c for c in text if c.isdigit())
        if len(digits) >= 8:
            found.add(digits)
    return found


@pytest.fixture(scope="module")
def events_and_needles() -> tuple[str, set[str]]:
    topology = parse_topology(TOPOLOGY)
    protector = Protector(
        topology, detector=FakeDetector(KNOWN), cipher=in_memory_cipher(topology.name)
    )
    pseudonyms = Pseudonymizer(PSEUDONYM_KEY)
    chain = AuditChain(SIGNER, worker_id="w", scope="leaks", partition=0)
    tracker = LineageTracker(topology, bootstrap="127.0.0.1:9092", min_interval=0)
    events: list[dict[str, Any]] = [tracker.start()]
    needles: set[str] = set()
    for offset, (record, key) in enumerate(zip(RECORDS, RECORD_KEYS, strict=True)):
        result = protector.protect(record)
        assert result.actions, "the protector found nothing to protect"
        needles |= _needles(record, result.record)
        needles.add(key.decode())
        ref = RecordRef.of(topology.input, 0, offset, key, pseudonyms)
        events += chain.append(record_protected(topology, ref, result.actions, worker_id="w"))
        observed = tracker.observe(leaf_types(record), result.actions)
        if observed is not None:
            events.append(observed)
    bad = DecodeError(f"invalid JSON near {RECORDS[0]['email']}", offset=2)
    ref = RecordRef.of(topology.input, 0, 2, RECORD_KEYS[0], pseudonyms)
    events += chain.append(record_dead_lettered(topology, ref, bad, worker_id="w"))
    events.append(chain.close())
    try:
        raise KeyError(RECORDS[1]["ssn"])
    except KeyError as exc:
        events.append(tracker.fail(exc))
    return json.dumps(events, ensure_ascii=False, separators=(",", ":")), needles


def test_events_hold_no_value_in_any_form(events_and_needles: tuple[str, set[str]]) -> None:
    text, needles = events_and_needles
    assert len(needles) > 25
    leaked = sorted(n for n in needles if n in text)
    assert leaked == []


def test_the_search_would_find_a_leak(events_and_needles: tuple[str, set[str]]) -> None:
    text, needles = events_and_needles
    assert "CUST-9QX7" in needles
    assert "jane.roe@example.org" in needles
    assert any(n.startswith("ssec:") for n in needles)  # the ciphertexts are searched too
    assert any("*" in n for n in needles)  # and the masked forms
    poisoned = text.replace('"worker":"w"', '"worker":"jane.roe@example.org"', 1)
    assert any(n in poisoned for n in needles)


def test_paths_and_classification_are_there(events_and_needles: tuple[str, set[str]]) -> None:
    text, _ = events_and_needles
    for expected in (
        '"path":"email"',
        '"path":"card.number"',
        '"category":"PII"',
        '"decode"',
        '"field":"contact.phone"',
    ):
        assert expected in text, expected
