from __future__ import annotations

import itertools
import pickle
from typing import Any

import pytest

from streamsec.events.canonical import compute_digest, genesis, signed_message
from streamsec.events.chain import AuditChain
from streamsec.events.cloudevents import EventType, cloudevent_problems, new_event
from streamsec.events.signing import public_from_b64, public_key_b64, signature_ok
from streamsec.events.verify import Reason, verify
from tests.unit.events.conftest import SIGNER, TRUST, with_digest


def _event(i: int) -> dict[str, Any]:
    return new_event(EventType.RECORD_PROTECTED, source="/streamsec/w", data={"i": i})


def _chain(**kwargs: Any) -> AuditChain:
    return AuditChain(SIGNER, worker_id="w", scope="s", partition=3, run="r", **kwargs)


def _signed(event: dict[str, Any]) -> bool:
    public = public_from_b64(public_key_b64(SIGNER.public_key()))
    return signature_ok(public, event["sig"], signed_message(event))


def test_events_are_numbered_linked_and_hashed_but_not_signed_one_by_one() -> None:
    chain = _chain()
    events = [e for i in range(4) for e in chain.append(_event(i))]
    assert [e["seq"] for e in events] == [0, 1, 2, 3]
    assert events[0]["prev"] == genesis("w/s/3/r")
    for before, after in itertools.pairwise(events):
        assert after["prev"] == before["digest"]
    for event in events:
        assert event["chain"] == "w/s/3/r"
        assert event["digest"] == compute_digest(event)
        assert "sig" not in event and "mac" not in event
        assert cloudevent_problems(event) == []
    assert chain.last_digest == events[-1]["digest"]
    assert chain.unsigned == 4


def test_the_input_event_is_not_modified() -> None:
    original = _event(1)
    before = repr(original)
    _chain().append(original)
    assert repr(original) == before


def test_a_checkpoint_signs_the_head_and_lists_every_event_since_the_last() -> None:
    chain = _chain()
    first = [e for i in range(3) for e in chain.append(_event(i))]
    checkpoint = chain.checkpoint()
    assert checkpoint is not None
    assert chain.checkpoint() is None  # nothing new to sign
    assert checkpoint["seq"] == 3 and checkpoint["prev"] == first[-1]["digest"]
    assert checkpoint["data"]["digests"] == [e["digest"][:16] for e in first]
    assert checkpoint["data"]["from_seq"] == 0 and checkpoint["data"]["count"] == 3
    assert checkpoint["data"]["signer"] == SIGNER.key_id
    assert checkpoint["data"]["final"] is False
    assert _signed(checkpoint)
    assert cloudevent_problems(checkpoint) == []
    second = [e for i in range(3, 5) for e in chain.append(_event(i))]
    final = chain.close()
    assert final["data"]["final"] is True
    assert final["data"]["from_seq"] == 4 and final["data"]["count"] == 6
    assert chain.closed
    with pytest.raises(RuntimeError, match="closed"):
        chain.append(_event(9))
    with pytest.raises(RuntimeError, match="closed"):
        chain.close()
    assert verify(with_digest([*first, checkpoint, *second, final]), TRUST).ok


def test_a_tampered_checkpoint_signature_does_not_verify() -> None:
    chain = _chain()
    chain.append(_event(0))
    checkpoint = chain.close()
    assert not _signed({**checkpoint, "data": {**checkpoint["data"], "count": 7}})


def test_an_empty_chain_closes_with_a_checkpoint_naming_no_event() -> None:
    final = _chain().close()
    assert final["seq"] == 0
    assert final["data"]["digests"] == []
    assert verify(with_digest([final]), TRUST).ok


def test_chain_attributes_cannot_be_supplied_by_the_caller() -> None:
    with pytest.raises(ValueError, match="seq"):
        _chain().append({**_event(0), "seq": 5})
    with pytest.raises(ValueError, match="JSON object"):
        _chain().append({**_event(0), "data": [1]})


def test_run_ids_differ_between_chain_instances() -> None:
    a = AuditChain(SIGNER, worker_id="w", scope="s", partition=0)
    b = AuditChain(SIGNER, worker_id="w", scope="s", partition=0)
    assert a.chain_id != b.chain_id
    assert AuditChain(SIGNER, worker_id="w").chain_id.startswith("w/-/-/")


def test_rollover_keeps_seq_in_the_cloudevents_integer_range() -> None:
    chain = _chain(max_seq=5)
    events = [e for i in range(9) for e in chain.append(_event(i))]
    events.append(chain.close())
    assert all(e["seq"] <= 5 for e in events)
    segments = sorted({e["chain"] for e in events})
    assert segments == ["w/s/3/r", "w/s/3/r.1", "w/s/3/r.2"]
    report = verify(with_digest(events), TRUST)
    assert report.ok, report.first_problems
    assert all(c.closed for c in report.chains)
    assert sum(1 for e in events if e["type"] != EventType.AUDIT_CHECKPOINT) == 9


def test_rollback_forgets_undelivered_events_and_the_chain_stays_intact() -> None:
    chain = _chain()
    delivered = [e for i in range(3) for e in chain.append(_event(i))]
    delivered.append(chain.checkpoint())
    mark = chain.mark()
    aborted = [e for i in range(3, 6) for e in chain.append(_event(i))]
    chain.rollback(mark)
    retried = [e for i in range(3, 6) for e in chain.append(_event(i))]
    final = chain.close()
    assert [e["seq"] for e in retried] == [e["seq"] for e in aborted]
    assert verify(with_digest([*delivered, *retried, final]), TRUST).ok
    # a reader that also saw the aborted events finds two events per position
    report = verify(with_digest([*delivered, *aborted, *retried, final]), TRUST)
    assert report.chains[0].first is not None
    assert report.chains[0].first.reason is Reason.INSERTED
    assert report.chains[0].first.seq == 4


def test_key_material_stays_hidden() -> None:
    chain = _chain()
    assert "PRIVATE" not in repr(chain)
    with pytest.raises(TypeError):
        pickle.dumps(chain)
    with pytest.raises(TypeError):
        pickle.dumps(SIGNER)
    with pytest.raises(ValueError, match="max_seq"):
        _chain(max_seq=2)
