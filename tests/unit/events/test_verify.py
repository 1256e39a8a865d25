from __future__ import annotations

from typing import Any

import pytest

from streamsec.events.canonical import compute_digest, compute_mac
from streamsec.events.chain import AuditChain
from streamsec.events.cloudevents import EventType, new_event
from streamsec.events.verify import AuditVerifier, Reason, verify
from tests.unit.events.conftest import AUDIT_KEY, KEY_ID, WRONG_KEY, MakeStream

KEYS = {KEY_ID: AUDIT_KEY}


def _first(report: Any, chain: str | None = None) -> Any:
    statuses = [c for c in report.chains if chain is None or c.chain == chain]
    return statuses[0].first


def test_open_chains_fail_unless_allowed(make_stream: MakeStream) -> None:
    stream = make_stream(close=False)
    report = verify(stream, KEYS)
    assert not report.ok
    first = _first(report)
    assert first.reason is Reason.TRUNCATED
    assert "last checkpoint at seq 11" in first.detail
    allowed = verify(stream, KEYS, allow_open=True)
    assert allowed.ok
    assert all(not c.closed and c.last_checkpoint == 11 for c in allowed.chains)


def test_expired_head_is_accepted_only_when_allowed(make_stream: MakeStream) -> None:
    stream = make_stream()
    tail = [e for e in stream if e["seq"] >= 4]
    first = _first(verify(tail, KEYS))
    assert (first.reason, first.seq) == (Reason.DELETED, 0)
    assert verify(tail, KEYS, allow_expired_head=True).ok
    # a gap after the (expired) head is still a deletion
    gap = [e for e in tail if e["seq"] != 7]
    first = _first(verify(gap, KEYS, allow_expired_head=True))
    assert (first.reason, first.seq) == (Reason.DELETED, 7)


def test_wrong_or_missing_key_says_so(make_stream: MakeStream) -> None:
    stream = make_stream()
    wrong = verify(stream, {KEY_ID: WRONG_KEY})
    assert not wrong.ok
    assert len(wrong.chains) == 3
    first = _first(wrong)
    assert (first.reason, first.seq) == (Reason.BAD_MAC, 0)
    assert "no event of the chain" in first.detail
    missing = verify(stream, {})
    assert "no audit key" in _first(missing).detail


def test_keys_may_be_a_lookup_function(make_stream: MakeStream) -> None:
    asked: list[str] = []

    def lookup(key_id: str) -> bytes | None:
        asked.append(key_id)
        return AUDIT_KEY if key_id == KEY_ID else None

    assert verify(make_stream(), lookup).ok
    assert set(asked) == {KEY_ID}


def test_unreadable_inputs_fail_verification(make_stream: MakeStream) -> None:
    stream: list[Any] = list(make_stream())
    stream.insert(5, None)
    stream.insert(9, [1, 2])
    report = verify(stream, KEYS)
    assert not report.ok
    assert report.unreadable == (5, 9)
    assert all(c.ok for c in report.chains)


def test_a_fabricated_chain_is_reported(make_stream: MakeStream) -> None:
    forger = AuditChain(WRONG_KEY, key_id=KEY_ID, worker_id="evil", partition=0, run="x")
    fake = [
        *forger.append(new_event(EventType.RECORD_PROTECTED, source="/s", data={})),
        forger.close(),
    ]
    report = verify([*make_stream(), *fake], KEYS)
    assert [c.chain for c in report.chains if not c.ok] == ["evil/0/x"]
    assert _first(report, "evil/0/x").reason is Reason.BAD_MAC


def test_two_authentic_events_at_one_position_are_reported() -> None:
    # two chain instances that (wrongly) share a run id
    chains = [
        AuditChain(AUDIT_KEY, key_id=KEY_ID, worker_id="w", partition=0, run="same")
        for _ in range(2)
    ]
    events = [
        e
        for i, chain in enumerate(chains)
        for e in chain.append(new_event(EventType.RECORD_PROTECTED, source="/s", data={"i": i}))
    ]
    events.append(chains[0].close())
    first = _first(verify(events, KEYS))
    assert (first.reason, first.seq) == (Reason.INSERTED, 0)


def test_a_checkpoint_that_disagrees_with_its_chain_is_reported() -> None:
    chain = AuditChain(AUDIT_KEY, key_id=KEY_ID, worker_id="w", partition=0, run="r")
    events = chain.append(new_event(EventType.RECORD_PROTECTED, source="/s", data={}))
    final = chain.close()
    final["data"]["count"] = 7  # a writer bug, sealed as if it were right
    final["digest"] = compute_digest(final)
    final["mac"] = compute_mac(AUDIT_KEY, final)
    first = _first(verify([*events, final], KEYS))
    assert (first.reason, first.seq) == (Reason.MODIFIED, 1)
    assert "checkpoint" in first.detail


def test_problems_name_the_input_position(make_stream: MakeStream) -> None:
    stream = make_stream()
    stream[10] = {**stream[10], "id": "changed"}
    report = verify(stream, KEYS)
    (problem,) = report.first_problems
    assert problem.position == 10
    assert str(problem).startswith(f"chain {stream[10]['chain']} seq {stream[10]['seq']}: modified")


def test_nothing_to_verify_is_ok() -> None:
    report = verify([], KEYS)
    assert report.ok
    assert report.chains == ()


def test_the_streaming_verifier_matches_verify(make_stream: MakeStream) -> None:
    stream: list[Any] = make_stream()
    stream[3] = {**stream[3], "time": "2030-01-01T00:00:00.000Z"}
    verifier = AuditVerifier(KEYS)
    for event in (e for e in stream):  # a one-shot iterator: nothing is kept but digests
        verifier.feed(event)
    assert verifier.report() == verify(stream, KEYS)
    with pytest.raises(RuntimeError, match="already"):
        verifier.feed(stream[0])
    with pytest.raises(RuntimeError, match="already"):
        verifier.report()
