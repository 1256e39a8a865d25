from __future__ import annotations

import itertools
import pickle
from typing import Any

import pytest

from streamsec.events.canonical import compute_digest, genesis, mac_matches
from streamsec.events.chain import AuditChain
from streamsec.events.cloudevents import EventType, cloudevent_problems, new_event
from streamsec.events.verify import Reason, verify
from tests.unit.events.conftest import AUDIT_KEY, KEY_ID

KEYS = {KEY_ID: AUDIT_KEY}


def _event(i: int) -> dict[str, Any]:
    return new_event(EventType.RECORD_PROTECTED, source="/streamsec/w", data={"i": i})


def _chain(**kwargs: Any) -> AuditChain:
    return AuditChain(AUDIT_KEY, key_id=KEY_ID, worker_id="w", partition=3, run="r", **kwargs)


def test_events_are_numbered_linked_and_sealed() -> None:
    chain = _chain(checkpoint_every=100)
    events = [e for i in range(4) for e in chain.append(_event(i))]
    assert [e["seq"] for e in events] == [0, 1, 2, 3]
    assert events[0]["prev"] == genesis("w/3/r")
    for before, after in itertools.pairwise(events):
        assert after["prev"] == before["digest"]
    for event in events:
        assert event["chain"] == "w/3/r"
        assert event["digest"] == compute_digest(event)
        assert mac_matches(AUDIT_KEY, event)
        assert event["data"]["audit_key_id"] == KEY_ID
        assert cloudevent_problems(event) == []
    assert chain.last_digest == events[-1]["digest"]


def test_the_input_event_is_not_modified() -> None:
    original = _event(1)
    before = repr(original)
    _chain().append(original)
    assert repr(original) == before


def test_checkpoints_every_n_events_and_a_final_one_on_close() -> None:
    chain = _chain(checkpoint_every=3)
    events = [e for i in range(7) for e in chain.append(_event(i))]
    kinds = ["C" if e["type"] == EventType.AUDIT_CHECKPOINT else "e" for e in events]
    assert "".join(kinds) == "eeeCeeeCe"
    checkpoint = events[3]
    assert checkpoint["data"]["last_seq"] == 2
    assert checkpoint["data"]["last_digest"] == events[2]["digest"]
    assert checkpoint["data"]["count"] == 3
    assert checkpoint["data"]["final"] is False
    assert checkpoint["subject"] == "w/3/r"
    final = chain.close()
    assert final["data"]["final"] is True
    assert final["seq"] == 9
    assert chain.closed
    with pytest.raises(RuntimeError, match="closed"):
        chain.append(_event(9))
    with pytest.raises(RuntimeError, match="closed"):
        chain.close()
    assert verify([*events, final], KEYS).ok


def test_an_empty_chain_closes_with_a_checkpoint_naming_no_event() -> None:
    final = _chain().close()
    assert final["seq"] == 0
    assert final["data"]["last_seq"] is None
    assert verify([final], KEYS).ok


def test_chain_attributes_cannot_be_supplied_by_the_caller() -> None:
    with pytest.raises(ValueError, match="seq"):
        _chain().append({**_event(0), "seq": 5})
    with pytest.raises(ValueError, match="JSON object"):
        _chain().append({**_event(0), "data": [1]})


def test_run_ids_differ_between_chain_instances() -> None:
    a = AuditChain(AUDIT_KEY, key_id=KEY_ID, worker_id="w", partition=0)
    b = AuditChain(AUDIT_KEY, key_id=KEY_ID, worker_id="w", partition=0)
    assert a.chain_id != b.chain_id
    assert AuditChain(AUDIT_KEY, key_id=KEY_ID, worker_id="w").chain_id.startswith("w/-/")


def test_rollover_keeps_seq_in_the_cloudevents_integer_range() -> None:
    chain = _chain(max_seq=5, checkpoint_every=100)
    events = [e for i in range(9) for e in chain.append(_event(i))]
    events.append(chain.close())
    assert all(e["seq"] <= 5 for e in events)
    segments = sorted({e["chain"] for e in events})
    assert segments == ["w/3/r", "w/3/r.1", "w/3/r.2"]
    report = verify(events, KEYS)
    assert report.ok
    assert all(c.closed for c in report.chains)
    assert sum(1 for e in events if e["type"] != EventType.AUDIT_CHECKPOINT) == 9


def test_rollback_forgets_undelivered_events_and_the_chain_stays_intact() -> None:
    chain = _chain(checkpoint_every=2)
    delivered = [e for i in range(3) for e in chain.append(_event(i))]
    mark = chain.mark()
    aborted = [e for i in range(3, 6) for e in chain.append(_event(i))]
    chain.rollback(mark)
    retried = [e for i in range(3, 6) for e in chain.append(_event(i))]
    final = chain.close()
    assert [e["seq"] for e in retried] == [e["seq"] for e in aborted]
    assert verify([*delivered, *retried, final], KEYS).ok
    # a reader that also saw the aborted events finds two events per position
    report = verify([*delivered, *aborted, *retried, final], KEYS)
    assert report.chains[0].first is not None
    assert report.chains[0].first.reason is Reason.INSERTED


def test_key_material_stays_hidden() -> None:
    chain = _chain()
    assert AUDIT_KEY.hex() not in repr(chain)
    with pytest.raises(TypeError):
        pickle.dumps(chain)
    with pytest.raises(ValueError, match="16 bytes"):
        AuditChain(b"short", key_id="k", worker_id="w")
    with pytest.raises(ValueError, match="checkpoint_every"):
        _chain(checkpoint_every=0)
