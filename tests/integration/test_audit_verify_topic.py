"""``streamsec audit verify --topic`` against the real broker."""

from __future__ import annotations

import argparse
import asyncio
import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from streamsec.cli.audit_cmd import register
from streamsec.events.verify import Reason, verify
from streamsec.kafka import KafkaConnection, read_topic
from tests.unit.events.conftest import SIGNER, TRUST, make_stream_events, write_trust_store


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="streamsec")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


async def test_verify_reads_a_whole_audit_topic(
    kafka_bootstrap: str,
    topic_factory: Callable[..., Awaitable[str]],
    kafka_produce: Callable[..., Awaitable[Any]],
    tmp_path: Path,
) -> None:
    topic = await topic_factory(partitions=2)
    events = make_stream_events()
    await kafka_produce(topic, [(e.get("chain", e.get("subject")), e) for e in events])

    messages = await read_topic(KafkaConnection(kafka_bootstrap), topic, idle_timeout=30)
    assert len(messages) == len(events)
    report = verify([m.value or b"null" for m in messages], TRUST)
    assert report.ok, report.first_problems
    assert len(report.chains) == 3

    trust = write_trust_store(tmp_path / "trust.json", SIGNER.public_key(), writers="w*")
    argv = [
        "audit",
        "verify",
        "--topic",
        topic,
        "--bootstrap",
        kafka_bootstrap,
        "--trust-store",
        str(trust),
    ]
    assert await asyncio.to_thread(_cli, argv) == 0  # the CLI runs its own event loop

    forged = copy.deepcopy(events[4])
    forged["data"]["worker"] = "mallory"
    await kafka_produce(topic, [(forged["chain"], forged)])
    messages = await read_topic(KafkaConnection(kafka_bootstrap), topic, idle_timeout=30)
    report = verify([m.value or b"null" for m in messages], TRUST)
    (problem,) = report.first_problems
    assert (problem.chain, problem.seq, problem.reason) == (
        forged["chain"],
        forged["seq"],
        Reason.MODIFIED,
    )
    assert await asyncio.to_thread(_cli, argv) == 1
