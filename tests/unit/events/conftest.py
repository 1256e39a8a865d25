from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streamsec.errors import DecodeError
from streamsec.events.audit import Pseudonymizer, RecordRef, record_dead_lettered, record_protected
from streamsec.events.chain import AuditChain
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

AUDIT_KEY = bytes(range(1, 33))
KEY_ID = "kaudit00001"
WRONG_KEY = bytes(range(100, 132))

Event = dict[str, Any]
MakeStream = Callable[..., list[Event]]


def payments_topology() -> Topology:
    return Topology.model_validate(
        {
            "name": "payments",
            "input": "raw.payments",
            "output": "safe.payments",
            "fields": {
                "customer_id": "keep",
                "email": {"action": "encrypt", "deterministic": True},
                "card.number": "mask",
            },
        }
    )


ACTIONS = (
    FieldAction(
        "email",
        "encrypt",
        "field",
        ("EMAIL_ADDRESS",),
        "PII",
        "confidential",
        "rule",
        key_id="kdet0000001",
        score=1.0,
    ),
    FieldAction(
        "card.number", "mask", "field", ("CREDIT_CARD",), "PCI", "restricted", "rule", score=0.95
    ),
    FieldAction(
        "note",
        "encrypt",
        "inline",
        ("PERSON",),
        "PII",
        "confidential",
        "policy",
        key_id="kenc0000001",
        score=0.85,
        spans=2,
    ),
)


def _clock() -> Iterator[datetime]:
    moment = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    while True:
        moment += timedelta(milliseconds=37)
        yield moment


def build_chain_events(
    chain: AuditChain, topology: Topology, *, records: int, close: bool, ticks: Iterator[datetime]
) -> list[Event]:
    pseudonyms = Pseudonymizer(AUDIT_KEY)
    out: list[Event] = []
    for offset in range(records):
        ref = RecordRef.of(
            topology.input, chain.partition or 0, offset, f"customer-{offset}".encode(), pseudonyms
        )
        if offset % 5 == 4:
            error = DecodeError("not JSON", topic=topology.input, offset=offset)
            event = record_dead_lettered(
                topology,
                ref,
                error,
                worker_id=chain.worker_id,
                time=next(ticks),
                event_id=f"e-{chain.chain_id}-{offset}",
            )
        else:
            event = record_protected(
                topology,
                ref,
                ACTIONS[: 1 + offset % 3],
                worker_id=chain.worker_id,
                time=next(ticks),
                event_id=f"e-{chain.chain_id}-{offset}",
            )
        out.extend(chain.append(event))
    if close:
        out.append(chain.close())
    return out


def make_stream_events(
    *,
    chains: tuple[tuple[str, int], ...] = (("w1", 0), ("w1", 1), ("w2", 0)),
    records: int = 12,
    checkpoint_every: int = 5,
    close: bool = True,
    seed: int = 7,
) -> list[Event]:
    """Several closed chains, interleaved at random but each in its own order."""
    topology = payments_topology()
    ticks = _clock()
    per_chain: list[list[Event]] = []
    for i, (worker, partition) in enumerate(chains):
        chain = AuditChain(
            AUDIT_KEY,
            key_id=KEY_ID,
            worker_id=worker,
            partition=partition,
            checkpoint_every=checkpoint_every,
            run=f"run{i}",
            clock=lambda: next(ticks),
        )
        per_chain.append(
            build_chain_events(chain, topology, records=records, close=close, ticks=ticks)
        )
    rng = random.Random(seed)
    queues = [list(events) for events in per_chain]
    stream: list[Event] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        stream.append(queue.pop(0))
    return stream


@pytest.fixture
def make_stream() -> MakeStream:
    return make_stream_events


@pytest.fixture
def topology() -> Topology:
    return payments_topology()
