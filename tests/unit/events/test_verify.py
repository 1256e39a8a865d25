from __future__ import annotations

import copy
from typing import Any

import pytest

from streamsec.events.canonical import compute_digest, wire
from streamsec.events.chain import AuditChain, sign_event
from streamsec.events.cloudevents import EventType, new_event
from streamsec.events.digests import abandoned
from streamsec.events.trust import TrustStore
from streamsec.events.verify import AuditVerifier, Reason, verify
from tests.unit.events.conftest import OTHER_SIGNER, SIGNER, TRUST, MakeStream, with_digest


def _first(report: Any, chain: str | None = None) -> Any:
    statuses = [c for c in report.chains if chain is None or c.chain == chain]
    return statuses[0].first


def _record(i: int = 0) -> dict[str, Any]:
    return new_event(EventType.RECORD_PROTECTED, source="/s", data={"i": i})


def test_a_whole_stream_verifies_from_dicts_and_from_bytes(make_stream: MakeStream) -> None:
    stream = make_stream()
    as_dicts = verify(stream, TRUST)
    assert as_dicts.ok, as_dicts.first_problems
    assert as_dicts.digests == 2
    assert [c.events for c in as_dicts.chains] == [15, 15, 15]
    assert all(c.closed and c.signer == SIGNER.key_id for c in as_dicts.chains)
    assert verify([wire(e) for e in stream], TRUST) == as_dicts


def test_open_chains_fail_unless_allowed(make_stream: MakeStream) -> None:
    stream = make_stream(close=False)
    report = verify(stream, TRUST)
    assert not report.ok
    first = _first(report)
    assert (first.reason, first.seq) == (Reason.TRUNCATED, 14)
    assert "last signed at seq 11" in first.detail
    allowed = verify(stream, TRUST, allow_open=True)
    assert allowed.ok, allowed.first_problems
    assert all(not c.closed and c.last_checkpoint == 11 and c.unsigned == 2
               for c in allowed.chains)


def test_expired_head_is_accepted_only_when_allowed(make_stream: MakeStream) -> None:
    stream = make_stream()
    tail = [e for e in stream if e.get("seq", 99) >= 4]
    first = _first(verify(tail, TRUST))
    assert (first.reason, first.seq) == (Reason.DELETED, 0)
    assert verify(tail, TRUST, allow_expired_head=True).ok
    gap = [e for e in tail if e.get("seq") != 7]  # a gap after the (expired) head
    first = _first(verify(gap, TRUST, allow_expired_head=True))
    assert (first.reason, first.seq) == (Reason.MODIFIED, 7) or first.reason is Reason.DELETED
    assert first.seq == 7


def test_an_unknown_or_uncertified_signer_says_so(make_stream: MakeStream) -> None:
    stream = make_stream()
    unknown = verify(stream, TrustStore.of_signers(OTHER_SIGNER.public_key()))
    assert not unknown.ok
    first = _first(unknown)
    assert (first.reason, first.seq) == (Reason.MODIFIED, 0)  # nothing covers seq 0..4
    assert any("not in the trust store" in p.detail for p in unknown.chains[0].problems)
    only_w2 = verify(stream, TrustStore.of_signers(SIGNER.public_key(), writers="w2"))
    assert [c.ok for c in only_w2.chains] == [False, False, True]
    assert any("not certified for writer w1" in p.detail for p in only_w2.chains[0].problems)


def test_unreadable_inputs_fail_verification(make_stream: MakeStream) -> None:
    stream: list[Any] = list(make_stream())
    stream.insert(5, None)
    stream.insert(9, [1, 2])
    stream.insert(12, b"{not json")
    report = verify(stream, TRUST)
    assert not report.ok
    assert report.unreadable == (5, 9, 12)
    assert all(c.ok for c in report.chains)


def test_a_chain_signed_with_an_uncertified_key_is_reported(make_stream: MakeStream) -> None:
    forger = AuditChain(OTHER_SIGNER, worker_id="w1", scope="payments", partition=0, run="x")
    fake = [*forger.append(_record()), forger.close()]
    report = verify([*make_stream(), *fake], TRUST)
    assert [c.chain for c in report.chains if not c.ok] == ["w1/payments/0/x"]
    (forged,) = [c for c in report.chains if c.chain == "w1/payments/0/x"]
    assert {p.reason for p in forged.problems} >= {Reason.BAD_SIGNATURE}


def test_two_events_at_one_position_are_reported() -> None:
    # two chain instances that (wrongly) share a run id
    chains = [AuditChain(SIGNER, worker_id="w", partition=0, run="same") for _ in range(2)]
    events = [e for i, chain in enumerate(chains) for e in chain.append(_record(i))]
    events.append(chains[0].close())
    first = _first(verify(with_digest(events), TRUST))
    assert (first.reason, first.seq) == (Reason.INSERTED, 0)


def test_a_checkpoint_that_disagrees_with_its_chain_is_reported() -> None:
    chain = AuditChain(SIGNER, worker_id="w", partition=0, run="r")
    events = chain.append(_record())
    final = chain.close()
    final["data"]["count"] = 7  # a writer bug, signed as if it were right
    final["digest"] = compute_digest(final)
    sign_event(SIGNER, final)
    (status,) = verify(with_digest([*events, final]), TRUST).chains
    assert any(p.reason is Reason.MODIFIED and p.seq == 1 and "checkpoint" in p.detail
               for p in status.problems)


def test_problems_name_the_input_position(make_stream: MakeStream) -> None:
    stream = make_stream()
    stream[10] = {**stream[10], "id": "changed"}
    report = verify(stream, TRUST)
    (problem,) = report.first_problems
    assert problem.position == 10
    assert str(problem).startswith(f"chain {stream[10]['chain']} seq {stream[10]['seq']}: modified")


def test_nothing_to_verify_is_an_empty_trail() -> None:
    report = verify([], TRUST)
    assert not report.ok
    assert [p.reason for p in report.trail] == [Reason.EMPTY]


def test_a_trail_without_any_signed_digest_fails(make_stream: MakeStream) -> None:
    report = verify(make_stream(digests=False), TRUST)
    assert not report.ok
    assert "no signed digest" in report.trail[0].detail
    for status in report.chains:  # each chain names its writer's missing digests
        assert status.first is not None
        assert (status.first.reason, status.first.seq) == (Reason.DELETED, 14)
        assert "w1/payments/d0" in status.first.detail or "w2/payments/d0" in status.first.detail


def test_redelivered_runs_are_counted_and_a_replay_is_not(make_stream: MakeStream) -> None:
    stream = make_stream(chains=(("w1", 0),))
    # at-least-once: a batch resent after part of it was delivered
    redelivered = [*stream[:8], *stream[5:8], *stream[8:]]
    report = verify(redelivered, TRUST)
    assert report.ok, report.first_problems
    assert report.duplicates == 3
    assert report.chains[0].events == 15
    # the same event much later: a replay, not a redelivery
    replayed = [*stream[:12], stream[3], *stream[12:]]
    first = _first(verify(replayed, TRUST))
    assert (first.reason, first.seq) == (Reason.REPLAYED, 3)


def test_a_handover_closes_a_dead_writers_chain_and_nothing_may_follow_it() -> None:
    chain = AuditChain(SIGNER, worker_id="w", partition=0, run="r", stream="w/-/d0")
    events = [e for i in range(3) for e in chain.append(_record(i))]
    events.append(chain.checkpoint())
    events += [e for i in range(3, 5) for e in chain.append(_record(i))]  # then kill -9
    successor = OTHER_SIGNER
    trust = TrustStore.of_signers(SIGNER.public_key(), successor.public_key())
    handover = abandoned(successor, worker_id="w2", chain=chain.chain_id, last_seq=5,
                         last_digest=events[-1]["digest"], reason="writer gone")
    report = verify(with_digest([*events, handover]), trust)
    assert report.ok, report.first_problems
    status = report.chains[0]
    assert (status.abandoned_at, status.abandoned_by, status.unsigned) == (5, "w2", 2)
    # the writer was not dead after all: an event after the handover is flagged
    late = chain.append(_record(9))
    first = _first(verify(with_digest([*events, handover, *late]), trust))
    assert (first.reason, first.seq) == (Reason.INSERTED, 6)
    # a handover naming another last event than the one there is flagged
    wrong = copy.deepcopy(handover)
    wrong["data"]["last_digest"] = events[2]["digest"]
    assert not verify(with_digest([*events, wrong]), trust).ok
    # nobody but a certified writer can hand a chain over
    assert not verify(with_digest([*events, handover]), TRUST).ok


def test_the_streaming_verifier_matches_verify(make_stream: MakeStream) -> None:
    stream: list[Any] = make_stream()
    stream[3] = {**stream[3], "time": "2030-01-01T00:00:00.000Z"}
    verifier = AuditVerifier(TRUST)
    for event in (e for e in stream):  # a one-shot iterator: nothing is kept but digests
        verifier.feed(event)
    assert verifier.report() == verify(stream, TRUST)
    with pytest.raises(RuntimeError, match="already"):
        verifier.feed(stream[0])
    with pytest.raises(RuntimeError, match="already"):
        verifier.report()
