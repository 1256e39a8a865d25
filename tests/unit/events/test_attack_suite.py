"""Insider attacks on a real worker's audit trail, judged by ``streamsec audit verify``.

The insider holds every data key (the whole key provider, the old audit MAC key
among them) and the verifier's trust store, but not the worker's signing key. The
trail is what the worker's pipeline writes (per-batch signed checkpoints, a digest
on the way and the final digest at stop), as the bytes it sends. Each attack must
make ``audit verify`` exit 1 and name the chain and seq where it happened; the
untouched trail exits 0.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from streamsec.cli.main import main
from streamsec.crypto.keys import KeyPurpose
from streamsec.events.canonical import compute_digest, genesis, wire
from streamsec.events.chain import PREFIX_LEN, AuditChain, sign_event
from streamsec.events.cloudevents import EventType, new_event, worker_source
from streamsec.events.digests import DigestWriter, abandoned
from streamsec.events.signing import AuditIdentity, FileSigner
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.runtime import make_pipeline
from streamsec.settings import Settings
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology
from tests.unit.events.conftest import write_trust_store

Event = dict[str, Any]
TOPOLOGY = parse_topology(
    "name: hr\ninput: raw.hr\noutput: safe.hr\nfields:\n  ssn: encrypt\n  name: encrypt\n"
)
WORKER = AuditIdentity.ephemeral()
"""The worker's identity: the insider never gets its signing key."""


class Insider:
    """Every data key and the verifier's trust store; a signing key of his own making,
    even one made from the old audit MAC key of the keyring."""

    def __init__(self, provider: InMemoryKeyProvider) -> None:
        mac_key = provider.current_key(TOPOLOGY.name, KeyPurpose.AUDIT).material
        self.signer = FileSigner(Ed25519PrivateKey.from_private_bytes(mac_key[:32]))

    @staticmethod
    def reseal(event: Event) -> None:
        event["digest"] = compute_digest(event)

    def resign(self, event: Event) -> None:
        event.pop("sig", None)
        event["data"]["signer"] = self.signer.key_id
        self.reseal(event)
        sign_event(self.signer, event)

    def relink(self, trail: list[Event], chain: str, start: int) -> None:
        """Re-chain ``chain`` from seq ``start`` on: prev, digests, checkpoint lists,
        checkpoints signed with his own key (the best he can do)."""
        events = sorted((e for e in trail if e.get("chain") == chain), key=lambda e: e["seq"])
        before = events[start - 1]["digest"] if start else genesis(chain)
        pending: list[str] = [e["digest"][:PREFIX_LEN] for e in events[:start]
                              if e["seq"] > _last_checkpoint(events[:start])]
        for event in events[start:]:
            event["prev"] = before
            if event["type"] == EventType.AUDIT_CHECKPOINT:
                event["data"]["digests"] = pending
                self.resign(event)
                pending = []
            else:
                self.reseal(event)
                pending.append(event["digest"][:PREFIX_LEN])
            before = event["digest"]


def _last_checkpoint(events: list[Event]) -> int:
    return max((e["seq"] for e in events if e["type"] == EventType.AUDIT_CHECKPOINT), default=-1)


def _records(n: int, start: int = 0) -> list[SourceRecord]:
    return [
        SourceRecord("raw.hr", i % 3, i // 3, f"k{i}".encode(),
                     json.dumps({"id": i, "name": f"Ann {i}", "ssn": f"123-45-{i:04d}"}).encode())
        for i in range(start, start + n)
    ]


@pytest.fixture(scope="module")
def provider() -> InMemoryKeyProvider:
    return InMemoryKeyProvider()


@pytest.fixture(scope="module", params=["record", "batch"])
def granularity(request: pytest.FixtureRequest) -> str:
    """Every attack on both forms: an event per record, and an event per batch and
    partition (STREAMSEC_AUDIT_GRANULARITY)."""
    return str(request.param)


@pytest.fixture(scope="module")
def trail(provider: InMemoryKeyProvider, granularity: str) -> list[bytes]:
    """What the worker sent to the audit topic: 4 batches over 3 partitions, a digest
    after the second, then a clean stop (final checkpoints and the final digest)."""
    pipeline = make_pipeline(TOPOLOGY, Settings(audit_granularity=granularity),
                             worker_id="w1", provider=provider, detector=FakeDetector(),
                             identity=WORKER)
    sent: list[bytes] = []

    def keep(messages: Any) -> None:
        sent.extend(m.value for m in messages if m.topic == TOPOLOGY.audit)

    for batch in range(4):
        for outcome in pipeline.process(_records(9, start=9 * batch)):
            keep(outcome.messages)
        pipeline.events.trail.batch_delivered()
        if batch == 1:
            keep(pipeline.audit_digest())
    keep(pipeline.close_chains())
    return sent


def _verify(tmp_path: Path, trail: list[Any], capsys: Any) -> tuple[int, str]:
    lines = [e if isinstance(e, bytes) else wire(e) for e in trail]
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    store = tmp_path / "trust.json"
    if not store.exists():
        write_trust_store(store, WORKER.signer.public_key(), writers="w*")
    code = main(["audit", "verify", "--in", str(path), "--trust-store", str(store)])
    return code, capsys.readouterr().out


def _chains(trail: list[bytes]) -> tuple[list[Event], list[str]]:
    events = [json.loads(line) for line in trail]
    return events, sorted({e["chain"] for e in events if "chain" in e})


def _of(events: list[Event], chain: str) -> list[Event]:
    return sorted((e for e in events if e.get("chain") == chain), key=lambda e: e["seq"])


def test_the_untouched_trail_verifies(tmp_path: Path, trail: list[bytes], capsys: Any) -> None:
    code, out = _verify(tmp_path, trail, capsys)
    assert code == 0, out
    assert "audit verify: intact: 3 chains ok, 0 broken, 0 abandoned after a crash" in out
    assert "2 signed digests" in out


def test_resealing_a_modified_event(
    tmp_path: Path, trail: list[bytes], provider: InMemoryKeyProvider, capsys: Any
) -> None:
    """The review's attack: an SSN's action changed from encrypt to drop, re-sealed."""
    insider = Insider(provider)
    events, chains = _chains(trail)
    chain = chains[0]
    target = _of(events, chain)[4]
    fields = target["data"]["fields"] if "fields" in target["data"] \
        else target["data"]["records"][1]["fields"]
    ssn = next(f for f in fields if f["path"] == "ssn")
    assert ssn["action"] == "encrypt"
    ssn["action"] = "drop"
    insider.reseal(target)  # only this event re-sealed
    code, out = _verify(tmp_path, events, capsys)
    assert code == 1
    assert f"chain {chain}: BROKEN at seq {target['seq']}" in out and "modified" in out

    insider.relink(events, chain, target["seq"])  # the whole rest of the chain re-sealed
    code, out = _verify(tmp_path, events, capsys)
    assert code == 1
    line = next(x for x in out.splitlines() if x.startswith(f"chain {chain}:"))
    seq = int(re.search(r"BROKEN at seq (\d+)", line).group(1))  # type: ignore[union-attr]
    first_of_batch = _last_checkpoint(_of(events, chain)[: target["seq"]]) + 1
    assert first_of_batch <= seq <= target["seq"], line  # the batch the edit is in
    assert "no valid signature covers them" in line


def test_inventing_a_new_chain(
    tmp_path: Path, trail: list[bytes], provider: InMemoryKeyProvider, capsys: Any
) -> None:
    insider = Insider(provider)
    fake = AuditChain(insider.signer, worker_id="w1", scope="payroll", partition=0, run="x")
    invented = [
        *fake.append(new_event(EventType.RECORD_PROTECTED, source=worker_source("w1"),
                               data={"worker": "w1", "fields": []})),
        fake.close(),
        DigestWriter(insider.signer, worker_id="w1", scope="payroll").digest({}, final=True),
    ]
    code, out = _verify(tmp_path, [*trail, *invented], capsys)
    assert code == 1
    assert "chain w1/payroll/0/x: BROKEN at seq " in out
    assert "not in the trust store" in out


def test_deleting_a_chain(tmp_path: Path, trail: list[bytes], capsys: Any) -> None:
    events, chains = _chains(trail)
    gone = chains[1]
    kept = [e for e in events if e.get("chain") != gone]
    code, out = _verify(tmp_path, kept, capsys)
    assert code == 1
    assert f"chain {gone}: BROKEN at seq " in out and "whole chain is missing" in out
    # and every digest that names it removed too: the digest chain shows the cut
    no_digests = [e for e in kept if e["type"] != EventType.AUDIT_DIGEST
                  or gone not in e["data"]["chains"]]
    code, out = _verify(tmp_path, no_digests, capsys)
    assert code == 1
    assert "TAMPERED" in out


def test_presenting_an_empty_trail(tmp_path: Path, capsys: Any) -> None:
    code, out = _verify(tmp_path, [], capsys)
    assert code == 1
    assert "empty" in out and "no audit events" in out


def test_cutting_the_tail(
    tmp_path: Path, trail: list[bytes], provider: InMemoryKeyProvider, capsys: Any
) -> None:
    events, chains = _chains(trail)
    chain = chains[2]
    tail = _of(events, chain)[-3:]
    cut = [e for e in events if not any(e is t for t in tail)]
    code, out = _verify(tmp_path, cut, capsys)
    assert code == 1
    assert f"chain {chain}: BROKEN at seq {tail[0]['seq']}" in out
    # "the writer died": a handover he signs himself changes nothing
    fake = abandoned(Insider(provider).signer, worker_id="w2", chain=chain,
                     last_seq=tail[0]["seq"] - 1, last_digest=tail[0]["prev"], reason="x")
    code, out = _verify(tmp_path, [*cut, fake], capsys)
    assert code == 1
    assert f"chain {chain}: BROKEN at seq " in out


def test_moving_events_across_chains(
    tmp_path: Path, trail: list[bytes], provider: InMemoryKeyProvider, capsys: Any
) -> None:
    insider = Insider(provider)
    events, chains = _chains(trail)
    source, target = chains[0], chains[1]
    moved = _of(events, source)[2]
    at = _of(events, target)[2]
    events.remove(moved)
    moved.update(chain=target, seq=at["seq"], prev=at["prev"])
    insider.reseal(moved)
    events[events.index(at)] = moved  # it takes the place of the target's own event
    insider.relink(events, target, at["seq"])
    code, out = _verify(tmp_path, events, capsys)
    assert code == 1
    assert f"chain {source}: BROKEN at seq 2" in out  # gone from where it was
    assert f"chain {target}: BROKEN at seq " in out


def test_reordering(tmp_path: Path, trail: list[bytes], capsys: Any) -> None:
    events, chains = _chains(trail)
    chain = chains[0]
    a, b = _of(events, chain)[3], _of(events, chain)[6]
    i, j = events.index(a), events.index(b)
    events[i], events[j] = events[j], events[i]
    code, out = _verify(tmp_path, events, capsys)
    assert code == 1
    assert f"chain {chain}: BROKEN at seq 3" in out and "reordered" in out


@pytest.mark.parametrize("rewrite", ["verbatim", "renumbered"])
def test_replaying_an_old_event_in_a_new_position(
    tmp_path: Path, trail: list[bytes], provider: InMemoryKeyProvider, capsys: Any,
    rewrite: str,
) -> None:
    insider = Insider(provider)
    events, chains = _chains(trail)
    chain = chains[0]
    own = _of(events, chain)
    old = copy.deepcopy(own[1])
    later = events.index(own[8])
    if rewrite == "renumbered":  # made to look like the event after seq 8
        old.update(seq=9, prev=own[8]["digest"])
        insider.reseal(old)
    events.insert(later + 1, old)
    code, out = _verify(tmp_path, events, capsys)
    assert code == 1
    expected = 1 if rewrite == "verbatim" else 9
    assert f"chain {chain}: BROKEN at seq {expected}" in out, out



# -- one record's entry inside a batch event ----------------------------------------


@pytest.fixture(scope="module")
def batched(provider: InMemoryKeyProvider) -> list[bytes]:
    pipeline = make_pipeline(TOPOLOGY, Settings(), worker_id="w1", provider=provider,
                             detector=FakeDetector(), identity=WORKER)
    sent: list[bytes] = []
    for batch in range(2):
        for outcome in pipeline.process(_records(9, start=9 * batch)):
            sent += [m.value for m in outcome.messages if m.topic == TOPOLOGY.audit]
        pipeline.events.trail.batch_delivered()
    sent += [m.value for m in pipeline.close_chains() if m.topic == TOPOLOGY.audit]
    return sent


def _batch_event(events: list[Event]) -> Event:
    """Partition 1's second batch event (records at offsets 3, 4 and 5 of raw.hr/1)."""
    chain = next(c for c in _chains_of(events) if c.split("/")[-2] == "1")
    (_, _, target, _, _) = _of(events, chain)
    assert target["type"] == EventType.RECORDS_BATCH
    assert [r["offset"] for r in target["data"]["records"]] == [3, 4, 5]
    return target


def _chains_of(events: list[Event]) -> list[str]:
    return sorted({e["chain"] for e in events if "chain" in e})


def _edit_entry(target: Event, how: str) -> None:
    records = target["data"]["records"]
    if how == "changed":
        next(f for f in records[1]["fields"] if f["path"] == "ssn")["action"] = "drop"
    elif how == "removed":
        records.pop(1)
    elif how == "reordered":
        records[0], records[1] = records[1], records[0]
    elif how == "added":
        records.append(dict(copy.deepcopy(records[1]), offset=99))


@pytest.mark.parametrize(("how", "reason", "offset"), [
    ("changed", "modified", 4), ("removed", "deleted", 4), ("reordered", "reordered", 3),
    ("added", "inserted", 99),
])
@pytest.mark.parametrize("resealed", [False, True])
def test_one_records_entry_in_a_batch_event_is_named(
    tmp_path: Path, batched: list[bytes], provider: InMemoryKeyProvider, capsys: Any,
    how: str, reason: str, offset: int, resealed: bool,
) -> None:
    """Changing, removing, reordering or adding one record's entry inside a batch event,
    with its digest left or recomputed: ``audit verify`` names that record."""
    code, out = _verify(tmp_path, batched, capsys)
    assert code == 0, out
    events = [json.loads(line) for line in batched]
    target = _batch_event(events)
    _edit_entry(target, how)
    if resealed:
        Insider(provider).reseal(target)
    code, out = _verify(tmp_path, events, capsys)
    assert code == 1
    line = f"chain {target['chain']}: BROKEN at seq {target['seq']}"
    assert f"{line} at line " in out, out
    assert f": {reason}: record raw.hr/1/{offset}: " in out, out
