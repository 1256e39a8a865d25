"""``streamsec demo``: raw customer records in, protected records out, on a real Kafka.

Starts the local broker when none is configured, creates the topics of
``topologies/customers.yaml`` (shipped in the package as ``demo_customers.yaml``, so
the demo runs from any directory), starts a worker process on it, produces a few hundred
generated records (plus two broken ones), then shows raw next to protected records
and a summary. Everything it started is stopped at the end. The demo has its own
keyring (``<home>/demo/keyring.json``), so it never touches yours.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["register"]

DEFAULT_TOPOLOGY = Path(__file__).resolve().with_name("demo_customers.yaml")
"""A link to ``topologies/customers.yaml`` in a checkout; a copy in the wheel."""
BROKEN = [b'{"customer_id": "C-000000", "email": ', b"\xff\xfenot utf-8"]


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run an end-to-end demo on the local Kafka broker")
    p.add_argument("--records", type=int, default=300, help="records to produce (300)")
    p.add_argument("--topology", type=Path, default=DEFAULT_TOPOLOGY)
    p.add_argument("--show", type=int, default=4, help="records shown side by side (4)")
    p.add_argument("--timeout", type=float, default=180.0)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from streamsec.broker import broker_status, stop_broker
    from streamsec.crypto.keyring_setup import init_keyring
    from streamsec.kafka import connect
    from streamsec.settings import load_settings
    from streamsec.topology.loader import load_topology
    from streamsec.worker.process import WorkerProcess

    settings = load_settings()
    topology = load_topology(args.topology)
    started_broker = not settings.broker and not broker_status(settings).running
    print("starting the local Kafka broker..." if started_broker else "using the running broker")
    conn = connect(settings)
    bootstrap = conn.bootstrap
    keyring = settings.home.resolve() / "demo" / "keyring.json"
    if not keyring.exists():
        init_keyring(keyring, settings=settings).close()
    env = {
        "STREAMSEC_BROKER": bootstrap, "STREAMSEC_KEYRING": str(keyring),
        "STREAMSEC_METRICS_PORT": "0", "STREAMSEC_WEB_PORT": "0",
    }
    worker = WorkerProcess(
        [args.topology], env=env, args=["--app-id", "streamsec-demo"],
        log_file=settings.home.resolve() / "demo" / "worker.log",
    )
    try:
        return asyncio.run(_demo(args, topology, conn, worker))
    finally:
        worker.stop()
        if started_broker:
            stop_broker(settings)
            print("stopped the local broker")


async def _demo(args: argparse.Namespace, topology: Any, conn: Any, worker: Any) -> int:
    from aiokafka import TopicPartition

    from streamsec.kafka import create_topics, new_consumer, new_producer
    from streamsec.testing.corpus import generate_corpus

    topics = [topology.output, topology.dead_letter_topic, topology.audit]
    partitions = await create_topics(conn, [topology.input, *topics])
    starts = await _end_offsets(conn, partitions)
    corpus = generate_corpus(args.records, seed=int(time.time()))
    raw = {f"demo-{i:05d}": c.record for i, c in enumerate(corpus)}
    worker.start()
    print(f"worker started (pid {worker.pid}); producing {len(raw) + len(BROKEN)} records")
    t0 = time.monotonic()
    producer = new_producer(conn)
    await producer.start()
    try:
        sent = [await producer.send(topology.input, json.dumps(r).encode(), key=k.encode())
                for k, r in raw.items()]
        sent += [await producer.send(topology.input, b, key=f"broken-{i}".encode())
                 for i, b in enumerate(BROKEN)]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    consumer = new_consumer(conn)
    await consumer.start()
    got: dict[str, list[Any]] = {t: [] for t in topics}
    try:
        consumer.assign([TopicPartition(t, p) for (t, p) in starts if t in topics])
        for (t, p), offset in starts.items():
            if t in topics:
                consumer.seek(TopicPartition(t, p), offset)
        want, deadline = len(raw) + len(BROKEN), time.monotonic() + args.timeout
        audited = 0  # a batch's audit event can land a moment after its records
        while (
            _done(got, topology, starts) < want or audited < want
        ) and time.monotonic() < deadline:
            if not worker.running:
                print("the worker exited; see", worker.log_file)
                return 1
            for tp, records in (await consumer.getmany(timeout_ms=300)).items():
                got[tp.topic].extend(records)
                if tp.topic == topology.audit:
                    audited += sum(len(_audited(json.loads(r.value))) for r in records)
    finally:
        await consumer.stop()
    elapsed = time.monotonic() - t0
    _show(raw, got[topology.output], args.show)
    _summary(got, topology, starts, elapsed)
    return 0 if _done(got, topology, starts) >= want and audited >= want else 1


def _audited(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The record entries one audit event accounts for: a batch event's list, a
    per-record event's data, none for the others (checkpoints, key operations)."""
    kind = str(event.get("type", ""))
    if kind == "io.streamsec.records.batch":
        records: list[dict[str, Any]] = event["data"]["records"]
        return records
    return [event["data"]] if kind.startswith("io.streamsec.record.") else []


def _ours(record: Any, starts: dict[tuple[str, int], int], source: str) -> bool:
    headers = dict(record.headers)
    partition = int(headers.get("streamsec.source.partition", b"-1"))
    offset = int(headers.get("streamsec.source.offset", b"-1"))
    return offset >= starts.get((source, partition), 0)


def _done(got: dict[str, list[Any]], topology: Any, starts: dict[tuple[str, int], int]) -> int:
    return sum(
        _ours(r, starts, topology.input)
        for t in (topology.output, topology.dead_letter_topic) for r in got[t]
    )


def _show(raw: dict[str, dict[str, Any]], protected: list[Any], count: int) -> None:
    shown = 0
    for record in protected:
        source = raw.get(record.key.decode("utf-8", "replace"))
        if source is None or shown >= count:
            continue
        shown += 1
        out = json.loads(record.value)
        categories = dict(record.headers)["streamsec.categories"].decode()
        print(f"\n--- {record.key.decode()}  ({categories})")
        for field in source:
            before = json.dumps(source[field], ensure_ascii=False)
            after = json.dumps(out.get(field), ensure_ascii=False)
            mark = "  " if before == after else "=>"
            print(f"  {field:<14} {_cut(before, 38):<38} {mark} {_cut(after, 44)}")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _summary(
    got: dict[str, list[Any]], topology: Any, starts: dict[tuple[str, int], int], elapsed: float
) -> None:
    out = [r for r in got[topology.output] if _ours(r, starts, topology.input)]
    dead = [r for r in got[topology.dead_letter_topic] if _ours(r, starts, topology.input)]
    audit = [json.loads(r.value) for r in got[topology.audit]]
    actions: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    entries = [entry for e in audit for entry in _audited(e)]  # one per record
    for record in entries:
        for entry in record.get("fields", []):
            actions[entry["action"]] += 1
            if entry.get("category"):
                categories[entry["category"]] += 1
    reasons = Counter(dict(r.headers)["streamsec.reason"].decode() for r in dead)
    print("\n=== summary")
    print(f"  protected     {len(out)} records -> {topology.output}")
    print(f"  dead letters  {len(dead)} -> {topology.dead_letter_topic} {dict(reasons)}")
    kinds = Counter(str(e.get("type", "?")).removeprefix("io.streamsec.") for e in audit)
    singles = sum(n for k, n in kinds.items() if k.startswith("record."))
    others = {k: n for k, n in kinds.items()
              if k != "records.batch" and not k.startswith("record.")}
    rest = ", ".join(f"{n} {kind}" for kind, n in sorted(others.items()))
    print(f"  audit events  {len(audit)} -> {topology.audit} ({len(entries)} records in "
          f"{kinds['records.batch']} batch events, {singles} per-record events; {rest})")
    print(f"  field actions {dict(actions.most_common())}")
    print(f"  categories    {dict(categories.most_common())}")
    print(f"  end to end    {elapsed:.1f}s ({(len(out) + len(dead)) / elapsed:.0f} records/s,"
          " including the worker's start-up)")


async def _end_offsets(conn: Any, partitions: dict[str, int]) -> dict[tuple[str, int], int]:
    from aiokafka import TopicPartition

    from streamsec.kafka import new_consumer

    consumer = new_consumer(conn, isolation_level="read_uncommitted")
    await consumer.start()
    try:
        tps = [TopicPartition(n, p) for n, count in partitions.items() for p in range(count)]
        ends = await consumer.end_offsets(tps)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()
