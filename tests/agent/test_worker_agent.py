"""The topology agent under test_context: outputs, dead letters, acks, no values leaked."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from streamsec.events.signing import FileSigner
from streamsec.events.trust import TrustStore
from streamsec.events.verify import verify
from streamsec.pipeline import headers as h
from streamsec.testing import FakeDetector
from streamsec.testing.lineage_schema import LineageSchemaValidator
from tests.agent.conftest import Harness, make_harness, wait_until

EMAIL = "jane.roe@example.com"
PHONE = "+1 415-555-0134"
CARD = "4111 1111 1111 1111"
GOOD = {
    "customer_id": "C-000042",
    "full_name": "Jane Roe",
    "email": EMAIL,
    "contact": {"phone": PHONE},
    "card": {"number": CARD, "brand": "visa"},
    "note": f"call Jane Roe on {PHONE}",
}
SECRETS = ("Jane Roe", EMAIL, PHONE, CARD, "1111 1111 1111")


def _raw(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode()


def _headers(kwargs: dict[str, Any]) -> dict[str, bytes]:
    return dict(kwargs["headers"])


def _leaks(harness: Harness) -> list[str]:
    """Every secret found in clear in anything sent anywhere except the dead letter."""
    found = []
    for name, mock in harness.mocks.items():
        if name == harness.dead_letter:
            continue
        for call in mock.call_args_list:
            blob = repr(call.kwargs).encode() + (call.kwargs["value"] or b"") + (
                call.kwargs["key"] or b"")
            found += [s for s in SECRETS if s.encode() in blob]
    return found


async def test_good_record_is_protected_with_audit_and_lineage(harness: Harness) -> None:
    async with harness.faust_agent.test_context() as agent:
        event = await agent.put(_raw(GOOD), key=EMAIL.encode())
        await wait_until(lambda: event.message.acked)
    (out,) = harness.sent(harness.output)
    record = json.loads(out["value"])
    assert record["customer_id"] == "C-000042"
    assert record["full_name"].startswith("ssec:v2:")
    assert record["email"].startswith("ssec:v2:")
    assert record["card"]["number"].endswith("1111")
    assert record["card"]["brand"] == "visa"
    assert out["key"].startswith(b"ssec:v2:")  # the key held an email: protected too
    headers = _headers(out)
    assert headers[h.TOPOLOGY] == b"agenttest"
    assert set(headers[h.CATEGORIES].split(b",")) == {b"PII", b"PCI"}
    assert headers[h.SENSITIVITY] == b"restricted"
    assert headers[h.KEY_IDS]
    assert all(k.startswith(b"k") for k in headers[h.KEY_IDS].split(b","))
    assert headers[h.SOURCE_TOPIC] == b"raw.people"
    assert headers[h.SOURCE_OFFSET] == b"0"
    audit, checkpoint = (json.loads(a["value"]) for a in harness.sent(harness.topology.audit))
    audit_event = audit
    assert audit_event["type"] == "io.streamsec.records.batch"  # the batch's records
    assert audit_event["seq"] == 0
    assert "mac" not in audit_event and "sig" not in audit_event  # events are hash-chained
    assert checkpoint["type"] == "io.streamsec.audit.checkpoint"  # the batch's signature
    assert checkpoint["prev"] == audit_event["digest"] and checkpoint["sig"]
    (entry,) = audit_event["data"]["records"]
    assert (entry["offset"], entry["outcome"]) == (0, "protected")
    paths = {f["path"] for f in entry["fields"]}
    assert {"full_name", "email", "card.number", "$key"} <= paths
    (lineage,) = harness.sent(harness.topology.lineage)  # OpenLineage START, with the first record
    event = json.loads(lineage["value"])["data"]  # a CloudEvent holding the run event
    assert event["eventType"] == "START"
    assert "protected.people" in {o["name"] for o in event["outputs"]}
    LineageSchemaValidator().validate(event)
    assert harness.sent(harness.dead_letter) == []
    assert _leaks(harness) == []


async def test_bad_json_goes_to_dead_letter_with_reason_and_source(harness: Harness) -> None:
    async with harness.faust_agent.test_context() as agent:
        event = await agent.put(b'{"email": "x@y.z", oops', key=b"k-1", partition=0)
        await wait_until(lambda: event.message.acked)
    (dead,) = harness.sent(harness.dead_letter)
    assert dead["value"] == b'{"email": "x@y.z", oops'
    assert dead["key"] == b"k-1"
    headers = _headers(dead)
    assert headers[h.REASON] == b"decode"
    assert headers[h.SOURCE_TOPIC] == b"raw.people"
    assert headers[h.SOURCE_PARTITION] == b"0"
    assert headers[h.SOURCE_OFFSET] == b"0"
    assert harness.sent(harness.output) == []
    assert harness.sent(harness.topology.lineage) == []
    audit, _checkpoint = harness.sent(harness.topology.audit)
    (entry,) = json.loads(audit["value"])["data"]["records"]
    assert (entry["offset"], entry["outcome"], entry["reason"]) == (0, "dead_lettered", "decode")
    assert b"x@y.z" not in audit["value"]


async def test_limits_and_bad_keys_are_dead_lettered_with_their_reason(
    detector: FakeDetector,
) -> None:
    harness = make_harness(detector, max_record_bytes=256, max_depth=4)
    deep = _raw({"a": {"b": {"c": {"d": {"e": 1}}}}})
    async with harness.faust_agent.test_context() as agent:
        await agent.put(b"x" * 300, key=b"big")
        await agent.put(deep, key=b"deep")
        await agent.put(b"[1, 2]", key=b"array")
        last = await agent.put(_raw({"ok": 1}), key=b"\xff\xfe")
        await wait_until(lambda: last.message.acked)
    reasons = {d["key"]: _headers(d)[h.REASON] for d in harness.sent(harness.dead_letter)}
    assert reasons == {
        b"big": b"too_large", b"deep": b"too_deep", b"array": b"decode", b"\xff\xfe": b"decode",
    }
    assert harness.sent(harness.output) == []


async def test_detector_failure_dead_letters_only_that_record(harness: Harness) -> None:
    async with harness.faust_agent.test_context() as agent:
        await agent.put(_raw({"customer_id": "C-1", "note": "EXPLODE " + EMAIL}), key=b"bad")
        last = await agent.put(_raw(GOOD), key=b"good")
        await wait_until(lambda: last.message.acked)
    (dead,) = harness.sent(harness.dead_letter)
    assert dead["key"] == b"bad"
    assert _headers(dead)[h.REASON] == b"detection"
    (out,) = harness.sent(harness.output)
    assert out["key"] == b"good"
    assert all(EMAIL.encode() not in kw["value"] for kw in harness.sent(harness.topology.audit))
    assert _leaks(harness) == []


async def test_events_are_acked_only_after_delivery(detector: FakeDetector) -> None:
    harness = make_harness(detector)
    pending: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    harness.mocks[harness.output].return_value = pending
    async with harness.faust_agent.test_context() as agent:
        event = await agent.put(_raw(GOOD), key=b"k")
        await wait_until(lambda: harness.mocks[harness.output].called)
        await asyncio.sleep(0.1)
        assert not event.message.acked  # sent, but the broker has not acknowledged it
        pending.set_result(None)
        await wait_until(lambda: event.message.acked)


async def test_failed_delivery_is_resent_before_the_ack(detector: FakeDetector) -> None:
    harness = make_harness(detector)
    failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    failed.set_exception(ConnectionError("broker gone"))
    harness.mocks[harness.output].side_effect = [failed, harness.delivered]
    async with harness.faust_agent.test_context() as agent:
        event = await agent.put(_raw(GOOD), key=b"k")
        await wait_until(lambda: event.message.acked)
    assert harness.mocks[harness.output].call_count == 2
    assert harness.metrics.errors.labels("agenttest", "delivery")._value.get() == 1


async def test_tombstone_keeps_null_value_and_protects_key(harness: Harness) -> None:
    async with harness.faust_agent.test_context() as agent:
        event = await agent.put(None, key=EMAIL.encode())
        await wait_until(lambda: event.message.acked)
    (out,) = harness.sent(harness.output)
    assert out["value"] is None
    assert out["key"].startswith(b"ssec:v2:")


async def test_metrics_count_records_detections_and_reasons(harness: Harness) -> None:
    async with harness.faust_agent.test_context() as agent:
        await agent.put(_raw(GOOD), key=b"a")
        last = await agent.put(b"nope", key=b"b")
        await wait_until(lambda: last.message.acked)
    m, topo = harness.metrics, "agenttest"
    assert m.records_in.labels(topo)._value.get() == 2
    assert m.records_out.labels(topo)._value.get() == 1
    assert m.dead_lettered.labels(topo, "decode")._value.get() == 1
    assert m.detections.labels(topo, "EMAIL_ADDRESS")._value.get() >= 1
    assert m.actions.labels(topo, "encrypt")._value.get() >= 2
    text = _exposition(harness)
    assert all(s not in text for s in SECRETS)


def _exposition(harness: Harness) -> str:
    from prometheus_client import generate_latest

    return generate_latest(harness.metrics.registry).decode()


async def test_no_secret_reaches_any_output_for_many_records() -> None:
    harness = make_harness(FakeDetector(known={"Jane Roe": "PERSON"}), batch_size=7)
    async with harness.faust_agent.test_context() as agent:
        for i in range(40):
            record = dict(GOOD, customer_id=f"C-{i}")
            last = await agent.put(_raw(record), key=f"k{i}".encode())
        await wait_until(lambda: last.message.acked)
    assert len(harness.sent(harness.output)) == 40
    lineage = [json.loads(e["value"])["data"] for e in harness.sent(harness.topology.lineage)]
    assert [e["eventType"] for e in lineage] == ["START"]  # one shape: no RUNNING per record
    audit = [json.loads(a["value"]) for a in harness.sent(harness.topology.audit)]
    assert [e["seq"] for e in audit] == list(range(len(audit)))  # one chain, in order
    records = [r["offset"] for e in audit if e["type"] == "io.streamsec.records.batch"
               for r in e["data"]["records"]]
    assert records == list(range(40))  # every record once, in order
    batches = [e for e in audit if e["type"] == "io.streamsec.records.batch"]
    assert len(batches) == harness.agent.batches  # one event per batch (and partition)
    assert audit[-1]["type"] == "io.streamsec.audit.checkpoint"  # every batch signed
    assert _leaks(harness) == []


async def test_a_batch_cut_short_by_shutdown_is_never_acked(detector: FakeDetector) -> None:
    """Faust's take() acks its buffer in a ``finally`` even when the agent body is
    cancelled or raises; the agent uses noack_take, so an undelivered batch stays unacked
    (and is read again after a restart)."""
    harness = make_harness(detector)
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    harness.mocks[harness.output].return_value = never
    async with harness.faust_agent.test_context() as agent:
        event = await agent.put(_raw(GOOD), key=b"k")
        await wait_until(lambda: harness.mocks[harness.output].called)
    assert not event.message.acked


async def test_next_batch_is_protected_but_not_sent_until_this_one_is_delivered(
    detector: FakeDetector,
) -> None:
    """Two batches in flight, one being delivered: outputs and the audit chain keep the
    record order, and a batch holds whatever waited while the previous one was busy."""
    harness = make_harness(detector)
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    harness.mocks[harness.output].side_effect = [gate] + [harness.delivered] * 40
    async with harness.faust_agent.test_context() as agent:
        first = await agent.put(_raw(GOOD), key=b"k0")
        await wait_until(lambda: harness.mocks[harness.output].called)
        rest = [
            await agent.put(_raw(GOOD), key=f"k{i}".encode(), wait=False) for i in range(1, 21)
        ]
        await asyncio.sleep(0.2)
        assert harness.mocks[harness.output].call_count == 1  # held back behind the gate
        assert not first.message.acked
        gate.set_result(None)
        await wait_until(lambda: all(e.message.acked for e in [first, *rest]))
    keys = [kw["key"] for kw in harness.sent(harness.output)]
    assert keys == [f"k{i}".encode() for i in range(21)]
    audit = [json.loads(a["value"]) for a in harness.sent(harness.topology.audit)]
    assert [e["seq"] for e in audit] == list(range(len(audit)))
    listed = [r["offset"] for e in audit if e["type"] == "io.streamsec.records.batch"
              for r in e["data"]["records"]]
    assert listed == list(range(21))  # every record, in order, in its batch's event
    assert harness.agent.batches < 21  # the waiting records went out in larger batches


class _FakeEvent:
    def __init__(self, offset: int) -> None:
        fields = {"topic": "in", "partition": 0, "offset": offset, "key": b"k",
                  "value": b"{}", "timestamp": 0.0}
        self.message = type("M", (), fields)()


class _FakeStream:
    """Just enough of a Faust stream for TopologyAgent.run."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.acked: list[Any] = []

    def noack(self) -> _FakeStream:
        return self

    async def events(self) -> Any:
        for i in range(self.n):
            yield _FakeEvent(i)
            await asyncio.sleep(0)

    async def ack(self, event: Any) -> None:
        self.acked.append(event)


class _EagerStream(_FakeStream):
    """Events already waiting: the iterator hands the next one over without giving the
    event loop a turn (as a Faust stream does while its buffer holds events)."""

    async def events(self) -> Any:
        for i in range(self.n):
            yield _FakeEvent(i)


def _traced(agent: Any, batch_size: int, ack_delay: float = 0.0) -> list[tuple[str, int]]:
    """Batches of ``batch_size``; logs each batch's protection, the start of its delivery
    and its end (``protect``, ``send``, ``delivered``) by its first offset."""
    agent.settings = agent.settings.model_copy(update={"batch_size": batch_size})
    log: list[tuple[str, int]] = []
    prepare, complete = agent.prepare, agent.complete

    async def traced_prepare(stream: Any, events: Any) -> Any:
        log.append(("protect", events[0].message.offset))
        return await prepare(stream, events)

    async def traced_complete(stream: Any, events: Any, *rest: Any) -> None:
        log.append(("send", events[0].message.offset))
        if ack_delay:
            await asyncio.sleep(ack_delay)  # the broker's acks
        await complete(stream, events, *rest)
        log.append(("delivered", events[0].message.offset))

    agent.prepare = traced_prepare  # type: ignore[method-assign]
    agent.complete = traced_complete  # type: ignore[method-assign]
    return log


async def test_a_full_batch_is_on_its_way_out_before_the_next_one_is_protected(
    harness: Harness,
) -> None:
    """The next batch is protected inline and holds the event loop: a full batch's send
    must have started before that, or its broker round trip waits out the protection."""
    log = _traced(harness.agent, batch_size=1)
    stream = _EagerStream(6)
    await asyncio.wait_for(harness.agent.run(stream), 10)
    assert len(stream.acked) == 6
    assert [log.index(("send", i)) < log.index(("protect", i + 1)) for i in range(5)] == [
        True
    ] * 5, log


async def test_a_failure_protecting_a_batch_crashes_the_agent_and_acks_nothing(
    harness: Harness,
) -> None:
    async def broken(stream: Any, events: Any) -> None:
        raise RuntimeError("executor gone")

    harness.agent.prepare = broken  # type: ignore[method-assign]
    stream = _FakeStream(500)
    with pytest.raises(RuntimeError, match="executor gone"):
        await asyncio.wait_for(harness.agent.run(stream), 5)
    assert stream.acked == []


async def test_a_failure_delivering_in_the_background_crashes_the_agent_at_the_next_batch(
    harness: Harness,
) -> None:
    calls: list[int] = []

    async def broken(stream: Any, events: Any, outcomes: Any, started: float) -> None:
        calls.append(len(events))
        raise RuntimeError("producer gone")

    harness.agent.complete = broken  # type: ignore[method-assign]
    stream = _FakeStream(500)
    with pytest.raises(RuntimeError, match="producer gone"):
        await asyncio.wait_for(harness.agent.run(stream), 5)
    assert calls == [1]  # the second batch was protected, never sent
    assert stream.acked == []


@pytest.mark.parametrize(("batch_size", "overlaps"), [(64, False), (1, True)])
async def test_a_small_batch_waits_for_the_last_delivery_and_a_full_one_overlaps_it(
    harness: Harness, batch_size: int, overlaps: bool
) -> None:
    """Below a full batch the worker has time to spare: a batch goes out before the
    next is protected (protected inline, that one would hold its sends and acks back,
    and every record's latency with them). The batch after a full one is protected
    while the full one is delivered, as the throughput needs."""
    agent = harness.agent
    log = _traced(agent, batch_size, ack_delay=0.02)
    stream = _FakeStream(6)  # one event per batch: nothing else waits in a plain iterable
    await asyncio.wait_for(agent.run(stream), 10)
    assert len(stream.acked) == 6
    order = [log.index(("protect", i + 1)) < log.index(("delivered", i)) for i in range(5)]
    assert order == [overlaps] * 5, log


async def test_an_idle_agent_sends_its_lineage_heartbeat(harness: Harness) -> None:
    timers = [getattr(t, "__name__", "") for t in harness.app._app_tasks]
    assert "lineage_heartbeat" in timers  # the app's timer that calls lineage_tick
    await harness.agent.lineage_tick()  # no run yet: nothing to say
    assert harness.sent(harness.topology.lineage) == []
    harness.agent.pipeline.events._lineage_heartbeat = 0.001  # a heartbeat due at once
    async with harness.faust_agent.test_context() as agent:
        event = await agent.put(_raw(GOOD), key=EMAIL.encode())
        await wait_until(lambda: event.message.acked)
    before = len(harness.sent(harness.topology.lineage))
    await asyncio.sleep(0.01)
    await harness.agent.lineage_tick()
    sent = harness.sent(harness.topology.lineage)
    assert len(sent) == before + 1
    heartbeat = json.loads(sent[-1]["value"])["data"]
    assert heartbeat["eventType"] == "RUNNING"
    assert EMAIL not in sent[-1]["value"].decode()


async def test_a_batch_protected_while_stopping_is_never_sent_nor_acked(harness: Harness) -> None:
    from streamsec.detection import budget

    async with harness.faust_agent.test_context() as agent:
        budget.stop_all()
        try:
            event = await agent.put(_raw(GOOD), key=b"k-1")
            await asyncio.sleep(0.5)
            assert not event.message.acked  # read again by the next owner: nothing lost
        finally:
            budget.resume()
    assert not harness.sent(harness.output) and not harness.sent(harness.dead_letter)


async def test_signed_digests_name_the_delivered_heads_and_the_trail_verifies(
    detector: FakeDetector,
) -> None:
    """A digest is due after every batch here (interval ~0): each names the chain head
    the broker had acknowledged, and the whole trail verifies with the public key."""
    harness = make_harness(detector, audit_digest_interval=0.001)
    async with harness.faust_agent.test_context() as agent:
        for i in range(6):
            last = await agent.put(_raw(GOOD), key=f"k{i}".encode())
            await wait_until(lambda e=last: e.message.acked)
    audit = [json.loads(a["value"]) for a in harness.sent(harness.topology.audit)]
    digests = [e for e in audit if e["type"] == "io.streamsec.audit.digest"]
    assert len(digests) >= 2
    assert [d["data"]["dseq"] for d in digests] == list(range(len(digests)))
    by_digest = {e["digest"]: e for e in audit if "chain" in e}
    for d in digests:
        for head in d["data"]["chains"].values():
            named = by_digest[head["last_digest"]]  # a delivered event, a checkpoint
            assert named["type"] == "io.streamsec.audit.checkpoint"
            assert audit.index(named) < audit.index(d)
    signer = FileSigner.open(Path(os.environ["STREAMSEC_AUDIT_SIGNING_KEY"]), create=False)
    report = verify(audit, TrustStore.of_signers(signer.public_key()), allow_open=True)
    assert report.ok, report.first_problems
