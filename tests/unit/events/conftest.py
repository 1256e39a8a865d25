from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from streamsec.errors import DecodeError
from streamsec.events.audit import (
    RecordRef,
    dead_letter_entry,
    protected_entry,
    record_dead_lettered,
    record_protected,
)
from streamsec.events.batch import entry_digest, records_batch
from streamsec.events.chain import AuditChain
from streamsec.events.digests import ChainHead, DigestWriter
from streamsec.events.signing import FileSigner, Pseudonymizer
from streamsec.events.trust import TrustStore, certify, new_trust_store
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

PSEUDONYM_KEY = bytes(range(1, 33))
SIGNER = FileSigner(Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33))))
"""The writers' signing key: the attacker in the tests never uses it."""
OTHER_SIGNER = FileSigner(Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132))))
"""A key nobody certified (what an attacker can make for himself)."""
TRUST = TrustStore.of_signers(SIGNER.public_key())

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


def _batch_event(
    chain: AuditChain, topology: Topology, n: int, size: int, ticks: Iterator[datetime]
) -> tuple[Event, tuple[tuple[int, ...], tuple[str, ...]]]:
    """The ``n``-th batch event of ``chain``: records n*size .. (n+1)*size - 1, every
    fifth dead-lettered (as :func:`build_chain_events` makes them one by one)."""
    pseudonyms = Pseudonymizer(PSEUDONYM_KEY)
    partition = chain.partition or 0
    entries = []
    offsets = tuple(range(n * size, (n + 1) * size))
    for offset in offsets:
        ref = RecordRef.of(
            topology.input, partition, offset, f"customer-{offset}".encode(), pseudonyms
        )
        if offset % 5 == 4:
            error = DecodeError("not JSON", topic=topology.input, offset=offset)
            entries.append(dead_letter_entry(ref, error))
        else:
            entries.append(protected_entry(ref, ACTIONS[: 1 + offset % 3]))
    event = records_batch(topology, topology.input, partition, entries,
                          worker_id=chain.worker_id, time=next(ticks),
                          event_id=f"e-{chain.chain_id}-b{n}")
    return event, (offsets, tuple(entry_digest(e) for e in entries))


def build_chain_events(
    chain: AuditChain, topology: Topology, *, records: int, close: bool, ticks: Iterator[datetime],
    checkpoint_every: int = 5, batch: int = 0,
) -> list[Event]:
    """``records`` chained events, a checkpoint after every ``checkpoint_every``; with
    ``batch``, each event is a batch event listing ``batch`` records."""
    pseudonyms = Pseudonymizer(PSEUDONYM_KEY)
    out: list[Event] = []
    for offset in range(records):
        if batch:
            event, listed = _batch_event(chain, topology, offset, batch, ticks)
            out.extend(chain.append(event, listed))
            if offset % checkpoint_every == checkpoint_every - 1:
                checkpoint = chain.checkpoint()
                if checkpoint is not None:
                    out.append(checkpoint)
            continue
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
        if offset % checkpoint_every == checkpoint_every - 1:  # one signed checkpoint a batch
            checkpoint = chain.checkpoint()
            if checkpoint is not None:
                out.append(checkpoint)
    if close:
        out.append(chain.close())
    return out


def digest_of(worker: str, chains: list[list[Event]], *, run: str = "d0") -> Event:
    """The final signed digest of ``worker``, naming the last event of each chain."""
    heads = {
        events[-1]["chain"]: ChainHead(
            events[-1]["seq"], events[-1]["digest"], events[-1]["data"].get("final") is True
        )
        for events in chains
        if events
    }
    return DigestWriter(SIGNER, worker_id=worker, scope="payments", run=run).digest(
        heads, final=True, time=datetime(2025, 3, 1, 13, 0, tzinfo=UTC)
    )


def make_stream_events(
    *,
    chains: tuple[tuple[str, int], ...] = (("w1", 0), ("w1", 1), ("w2", 0)),
    records: int = 12,
    checkpoint_every: int = 5,
    close: bool = True,
    seed: int = 7,
    digests: bool = True,
    batch: int = 0,
) -> list[Event]:
    """Several closed chains, interleaved at random but each in its own order, then one
    final signed digest per worker (``batch``: each event lists that many records)."""
    topology = payments_topology()
    ticks = _clock()
    per_chain: list[list[Event]] = []
    for i, (worker, partition) in enumerate(chains):
        chain = AuditChain(
            SIGNER,
            worker_id=worker,
            scope="payments",
            partition=partition,
            run=f"run{i}",
            stream=f"{worker}/payments/d0",
            clock=lambda: next(ticks),
        )
        per_chain.append(
            build_chain_events(
                chain, topology, records=records, close=close, ticks=ticks,
                checkpoint_every=checkpoint_every, batch=batch,
            )
        )
    rng = random.Random(seed)
    queues = [list(events) for events in per_chain]
    stream: list[Event] = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        stream.append(queue.pop(0))
    if digests:
        for worker in dict.fromkeys(w for w, _p in chains):
            mine = [e for (w, _p), e in zip(chains, per_chain, strict=True) if w == worker]
            stream.append(digest_of(worker, mine))
    return stream


@pytest.fixture
def make_stream() -> MakeStream:
    return make_stream_events


@pytest.fixture
def topology() -> Topology:
    return payments_topology()


def with_digest(events: list[Event], worker: str = "w") -> list[Event]:
    """``events`` and a final signed digest naming the last event of each chain in it."""
    last: dict[str, Event] = {}
    for event in events:
        if "chain" not in event:
            continue
        held = last.get(event["chain"])
        if held is None or held["seq"] < event["seq"]:
            last[event["chain"]] = event
    return [*events, digest_of(worker, [[e] for e in last.values()])]


def write_trust_store(path: Path, *public_keys: bytes, writers: str = "*") -> Path:
    """A trust store file: a fresh operator key certifying ``public_keys`` for ``writers``
    (the operator key itself is thrown away, as an offline key would be kept away)."""
    operator = Ed25519PrivateKey.generate()
    new_trust_store(path, operator)
    for public in public_keys:
        certify(path, operator, public, writers)
    return path
