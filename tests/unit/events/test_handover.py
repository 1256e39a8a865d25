"""Crash handover: a worker dies mid-batch; its successor closes the chains it left open.

The trail is what two runs of the real pipeline send: the first delivers two
batches, then only part of a third (kill -9 between its events and their signed
checkpoint); the second scans the audit trail at partition assignment
(:class:`OpenChains`) and writes a signed handover record per open chain.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamsec.events.canonical import wire
from streamsec.events.handover import OpenChains, chain_scope
from streamsec.events.signing import AuditIdentity
from streamsec.events.trust import TrustStore
from streamsec.events.verify import Reason, verify
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

TOPOLOGY = parse_topology("name: hr\ninput: raw.hr\noutput: safe.hr\nfields:\n  ssn: encrypt\n")
FIRST, SECOND = AuditIdentity.ephemeral(), AuditIdentity.ephemeral()
TRUST = TrustStore.of_signers(FIRST.signer.public_key(), SECOND.signer.public_key())


def _records(n: int, start: int) -> list[SourceRecord]:
    return [SourceRecord("raw.hr", i % 2, i, None, json.dumps({"ssn": f"1-{i}"}).encode())
            for i in range(start, start + n)]


def _pipeline(worker: str, identity: AuditIdentity, granularity: str = "batch") -> RecordPipeline:
    return make_pipeline(TOPOLOGY, Settings(audit_granularity=granularity), worker_id=worker,
                         provider=InMemoryKeyProvider(), detector=FakeDetector(),
                         identity=identity)


def _audit(messages: Any) -> list[bytes]:
    return [m.value for m in messages if m.topic == TOPOLOGY.audit]


def crashed_then_handed_over(granularity: str = "batch") -> tuple[list[bytes], list[bytes]]:
    """(what the dead worker sent, what its successor sent). Per record: the third
    batch's first 3 records and their events went out; per batch: every record and
    the two partitions' batch events, but not their checkpoints."""
    dead = _pipeline("w-dead", FIRST, granularity)
    sent: list[bytes] = []
    for batch in range(2):
        sent += [v for o in dead.process(_records(6, 6 * batch)) for v in _audit(o.messages)]
        dead.events.trail.batch_delivered()
    sent += _audit(dead.audit_digest())
    last = dead.process(_records(6, 12))
    if granularity == "record":
        sent += [v for o in last[:3] for v in _audit(o.messages)]  # kill -9: the rest never sent
    else:
        sent += [v for o in last for v in _audit(o.messages) if b"audit.checkpoint" not in v]
    successor = _pipeline("w-next", SECOND, granularity)
    scan = OpenChains(TOPOLOGY.name, [0, 1])
    for raw in sent:
        scan.feed(raw)
    found = scan.result(successor.events.trail.live_chains)
    handed: list[bytes] = []
    for c in found:
        handed += _audit(successor.handover(c.chain, c.last_seq, c.last_digest, c.stream))
    for o in successor.process(_records(6, 12)):  # the records are read again
        handed += _audit(o.messages)
    successor.events.trail.batch_delivered()
    handed += _audit(successor.close_chains())
    return sent, handed


def test_open_chains_names_each_dead_chain_at_its_last_event() -> None:
    sent, _ = crashed_then_handed_over()
    scan = OpenChains(TOPOLOGY.name, [0, 1])
    for raw in sent:
        scan.feed(raw)
    found = scan.result()
    assert len(found) == 2
    events = [json.loads(raw) for raw in sent]
    for c in found:
        mine = [e for e in events if e.get("chain") == c.chain]
        assert c.last_seq == max(e["seq"] for e in mine)
        assert c.last_digest == next(e["digest"] for e in mine if e["seq"] == c.last_seq)
        assert c.stream is not None and c.stream.startswith("w-dead/hr/")
    assert OpenChains(TOPOLOGY.name, [5]).result() == []  # other partitions: none
    assert chain_scope("w/a/b/hr/3/run") == ("hr", 3)  # a writer id may hold '/'


@pytest.mark.parametrize(("granularity", "unsigned"), [("record", 3), ("batch", 2)])
def test_a_crash_verifies_as_intact_with_abandoned_chains(granularity: str, unsigned: int) -> None:
    sent, handed = crashed_then_handed_over(granularity)
    report = verify([*sent, *handed], TRUST)
    assert report.ok, report.first_problems
    abandoned = report.abandoned
    assert len(abandoned) == 2
    assert all(c.abandoned_by == "w-next" for c in abandoned)
    assert sum(c.unsigned for c in abandoned) == unsigned  # sent, never signed by their writer
    assert len([c for c in report.chains if c.closed]) == 2  # the successor's own


def test_without_the_handover_the_same_crash_is_not_intact() -> None:
    sent, handed = crashed_then_handed_over()
    rest = [h for h in handed if b"io.streamsec.audit.abandoned" not in h]
    report = verify([*sent, *rest], TRUST)
    assert not report.ok
    reasons = {p.reason for c in report.chains for p in c.problems}
    assert Reason.TRUNCATED in reasons


@pytest.mark.parametrize("granularity", ["record", "batch"])
def test_tampering_after_a_crash_still_fails(granularity: str) -> None:
    sent, handed = crashed_then_handed_over(granularity)
    events = [json.loads(raw) for raw in sent]
    unsigned = events[-1]  # attested by the successor only, but pinned by its handover
    if granularity == "record":
        unsigned["data"]["record"]["offset"] += 100
    else:
        unsigned["data"]["records"][1]["offset"] += 100
    report = verify([*(wire(e) for e in events), *handed], TRUST)
    assert not report.ok
    (broken,) = [c for c in report.chains if not c.ok]
    assert broken.first is not None and broken.first.seq == unsigned["seq"]
