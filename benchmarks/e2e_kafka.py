"""End-to-end figures on a real broker: one ``streamsec worker`` vs a raw aiokafka
consume-then-produce passthrough, same broker, same run, same records.

For each workload (``structured``: customer and payment records; ``mixed``: the whole
generated corpus, with free-text tickets and opaque events):

* throughput: N records produced as fast as possible into a topic the processor is
  already reading; records/s from the first send to the last output received;
* latency: records sent at a steady rate below capacity; p50/p99 of (output received
  - input sent), measured by one downstream consumer.

    .venv/bin/python benchmarks/e2e_kafka.py [--records 2000] [--rate 50] [--detector real|fake]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streamsec.broker import ensure_broker
from streamsec.crypto.keyring_setup import init_keyring
from streamsec.settings import load_settings
from streamsec.testing.corpus import generate_corpus
from streamsec.worker.process import WorkerProcess

WORKLOADS = {"structured": ("customer", "payment"), "mixed": None}
# topologies/customers.yaml without per-subject keys (each new subject would add a key).
RULES = """fields:
  customer_id: keep
  email: {action: encrypt, deterministic: true, entity: EMAIL_ADDRESS}
  card.number: {action: mask, keep_last: 4, entity: CREDIT_CARD}
policy:
  default_action: encrypt
"""


async def create(bootstrap: str, *topics: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 1, 1) for t in topics])
    finally:
        await admin.close()


class Receiver:
    """Downstream consumer: arrival time of every output key."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.arrived: dict[bytes, float] = {}
        self._consumer = AIOKafkaConsumer(
            *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            for records in (await self._consumer.getmany(timeout_ms=100)).values():
                now = time.monotonic()
                for r in records:
                    self.arrived.setdefault(r.key, now)

    async def wait(self, keys: list[bytes], timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while not all(k in self.arrived for k in keys):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sum(k in self.arrived for k in keys)}/{len(keys)} arrived")
            await asyncio.sleep(0.05)
        return max(self.arrived[k] for k in keys)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self._consumer.stop()


async def passthrough(bootstrap: str, source: str, target: str, stop: asyncio.Event) -> None:
    """The baseline: consume, produce each record unchanged, await delivery, commit."""
    consumer = AIOKafkaConsumer(
        source, bootstrap_servers=bootstrap, group_id=f"pass-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest", enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=50, max_records=64)
            futures = [
                await producer.send(target, r.value, key=r.key)
                for records in batch.values() for r in records
            ]
            if futures:
                await asyncio.gather(*futures)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


async def drive(
    bootstrap: str, source: str, records: list[tuple[bytes, bytes]], rate: float | None,
    receiver: Receiver, timeout: float,
) -> tuple[float, list[float]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent_at: dict[bytes, float] = {}
    t0 = time.monotonic()
    try:
        futures = []
        for i, (key, value) in enumerate(records):
            if rate:
                await asyncio.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            sent_at[key] = time.monotonic()
            futures.append(await producer.send(source, value, key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    last = await receiver.wait(list(sent_at), timeout)
    latencies = [receiver.arrived[k] - sent_at[k] for k in sent_at]
    return len(records) / (last - t0), latencies


def figures(name: str, rps: float, latencies: list[float]) -> dict[str, Any]:
    q = statistics.quantiles(latencies, n=100)
    return {"processor": name, "records_per_s": round(rps, 1),
            "p50_ms": round(q[49] * 1000, 1), "p99_ms": round(q[98] * 1000, 1)}


def workload(kinds: tuple[str, ...] | None, n: int, prefix: str) -> list[tuple[bytes, bytes]]:
    corpus = generate_corpus(n, seed=17, **({"kinds": kinds} if kinds else {}))
    return [(f"{prefix}-{i:06d}".encode(), json.dumps(c.record).encode())
            for i, c in enumerate(corpus)]


async def bench(args: argparse.Namespace, bootstrap: str, home: Path) -> list[dict[str, Any]]:
    results = []
    for wname, kinds in WORKLOADS.items():
        run = uuid.uuid4().hex[:6]
        raw, out, pas = f"bench-raw-{run}", f"bench-out-{run}", f"bench-pass-{run}"
        dead, audit, lin = f"{raw}.dead-letter", f"bench-audit-{run}", f"bench-lin-{run}"
        await create(bootstrap, raw, out, pas, dead, audit, lin)
        topology = home / f"{wname}.yaml"
        topology.write_text(
            f"name: bench-{wname}\ninput: {raw}\noutput: {out}\naudit: {audit}\nlineage: {lin}\n"
            + RULES
        )
        env = {"STREAMSEC_BROKER": bootstrap, "STREAMSEC_KEYRING": str(home / "keyring.json"),
               "STREAMSEC_METRICS_PORT": "0", "STREAMSEC_WEB_PORT": "0",
               "STREAMSEC_HOME": str(home)}
        extra = ["--detector", "streamsec.testing:FakeDetector"] if args.detector == "fake" else []
        for processor in ("passthrough", "streamsec"):
            target = pas if processor == "passthrough" else out
            receiver = Receiver(bootstrap, [target, dead])
            await receiver.start()
            stop = asyncio.Event()
            worker = task = None
            if processor == "passthrough":
                task = asyncio.create_task(passthrough(bootstrap, raw, pas, stop))
            else:
                worker = WorkerProcess([topology], env=env, log_file=home / f"{wname}.log",
                                       args=["--app-id", f"bench-{run}", *extra]).start()
            try:
                warm = workload(kinds, 20, f"warm-{processor}")
                await drive(bootstrap, raw, warm, None, receiver, 300)
                data = workload(kinds, args.records, f"tp-{processor}")
                rps, _ = await drive(bootstrap, raw, data, None, receiver, 900)
                paced = workload(kinds, int(args.rate * args.seconds), f"lat-{processor}")
                _, lat = await drive(bootstrap, raw, paced, args.rate, receiver, 300)
            finally:
                stop.set()
                if task:
                    await task
                if worker:
                    worker.stop()
                await receiver.stop()
            row = {"workload": wname, **figures(processor, rps, lat)}
            print(json.dumps(row), flush=True)
            results.append(row)
        base, ours = results[-2], results[-1]
        print(f"  {wname}: streamsec / passthrough throughput = "
              f"{ours['records_per_s'] / base['records_per_s']:.3f}", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="records/s for latency")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--detector", choices=["real", "fake"], default="real")
    parser.add_argument("--bootstrap", help="default: STREAMSEC_BROKER or the local broker")
    args = parser.parse_args()
    bootstrap = args.bootstrap or ensure_broker(load_settings())
    home = Path(tempfile.mkdtemp(prefix="streamsec-e2e-"))
    init_keyring(home / "keyring.json")
    asyncio.run(bench(args, bootstrap, home))
    return 0


if __name__ == "__main__":
    sys.exit(main())
