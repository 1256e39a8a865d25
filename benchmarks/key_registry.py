"""Start-up time and memory of a process that opens the Kafka key registry.

Fills a fresh registry topic on the broker (``STREAMSEC_BROKER``) with ``--keys``
per-subject keys (real wrapped keys, authenticated entries), then, in a fresh
child process each time, measures how long reading it to the end takes, how
long opening a keyring over it takes (MAC checks, first-writer-wins, the key
index), and the child's peak memory. The baseline, in the same run, is the same
measurement at ``--keys / 10``::

    STREAMSEC_BROKER=127.0.0.1:19092 .venv/bin/python benchmarks/key_registry.py [--keys 1000000]

The baseline, in the same run, is a plain aiokafka consumer reading the same topic
to its end in a fresh process (``raw``): the start-up is printed as a multiple of it.

Measured on the shared 2-core development machine (load 2.3-3.2, 1 min 31 s in
all): 1,000,000 keys start in 29.4 s (reading 5.3 s, opening the keyring 24.0 s:
MAC check, parse and index of each entry), 3.93x the raw read (7.5 s), with a
1158 MB peak (raw read: 607 MB); 100,000 keys in 2.5 s, 171 MB. An earlier run at
load 1.7: 1,000,000 keys in 23.0 s, 6.29x a 3.7 s raw read, 1188 MB. Before this
layout (JSON re-serialised for every MAC check, pydantic records, the parsed
entries kept): 63.4 s and 4.0 GB; the same 100,000-key topic opened alternately by
both versions in one run: 6.96/4.74 s and 459 MB before, 1.46/2.42 s and 171 MB
after. What is left is Python per entry (~10 us: HMAC, parse, the record, the
key index), 1 KB of it each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import uuid

from streamsec.crypto.integrity import entry_mac, mac_key
from streamsec.crypto.keyfile import MemoryStore
from streamsec.crypto.keyring_setup import new_document
from streamsec.crypto.providers.local import StaticKekProvider
from streamsec.kafka import KafkaConnection, new_producer
from streamsec.keystore.kafka_io import ensure_topic
from streamsec.keystore.kafka_store import HEADER

KEK = bytes(range(32))
KEK_ID = "kbenchmarka"


def _entry(key: bytes, body: dict[str, object]) -> bytes:
    entry = {**body, "rev": 1}
    return json.dumps({**entry, "mac": entry_mac(key, entry)}, separators=(",", ":"),
                      sort_keys=True).encode()  # fmt: skip


def _entries(n: int) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The header and ``n`` authenticated entries of real wrapped per-subject keys."""
    from streamsec.crypto.aad import wrapped_key_aad
    from streamsec.crypto.envelope import b64url_encode
    from streamsec.crypto.keyring import Keyring
    from streamsec.crypto.keys import Kek

    provider = StaticKekProvider(KEK, kek_id=KEK_ID)
    doc = new_document(provider, kek_id=KEK_ID)
    ring = Keyring(MemoryStore(doc), kek_provider=provider)
    key, kek = mac_key(ring._state.index_key), Kek(KEK, kek_id=KEK_ID)
    header = doc.model_dump(mode="json", exclude={"keys", "mac", "generation"})
    created = "2026-01-01T00:00:00Z"
    out = []
    for i in range(n):
        key_id = "k" + f"{i:010d}".translate(str.maketrans("0123456789", "abcdefghij"))
        subject = ring.subject_hash("customers", f"S{i}")
        aad = wrapped_key_aad(key_id=key_id, purpose="encrypt", owner="customers",
                              subject=subject, version=1)  # fmt: skip
        record = {"id": key_id, "purpose": "encrypt", "owner": "customers", "subject": subject,
                  "version": 1, "state": "active", "created": created, "destroyed": None,
                  "wrapped": b64url_encode(kek.wrap(os.urandom(32), aad)), "kek": "default",
                  "kek_version": "static"}  # fmt: skip
        out.append((key_id.encode(), _entry(key, {"record": record})))
    return _entry(key, {"document": header}), out


async def _fill(bootstrap: str, topic: str, n: int) -> None:
    header, entries = _entries(n)
    conn = KafkaConnection(bootstrap)
    await ensure_topic(conn, topic)
    producer = new_producer(conn, max_batch_size=1 << 20, max_request_size=4 << 20)
    await producer.start()
    try:
        await producer.send_and_wait(topic, header, key=HEADER.encode(), partition=0)
        pending, batch = [], producer.create_batch()
        for k, v in entries:
            if batch.append(key=k, value=v, timestamp=None) is None:
                pending.append(await producer.send_batch(batch, topic, partition=0))
                batch = producer.create_batch()
                batch.append(key=k, value=v, timestamp=None)
        pending.append(await producer.send_batch(batch, topic, partition=0))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _delete(bootstrap: str, topic: str) -> None:
    from streamsec.kafka import admin_client

    async with admin_client(KafkaConnection(bootstrap), doing="deleting the topic") as admin:
        await admin.delete_topics([topic])


def _child(bootstrap: str, topic: str) -> None:
    from streamsec.crypto.keyring import Keyring
    from streamsec.keystore.kafka_store import KafkaKeyStore

    t0 = time.perf_counter()
    store = KafkaKeyStore(KafkaConnection(bootstrap), topic, start_timeout=600)
    read = time.perf_counter() - t0
    t1 = time.perf_counter()
    ring = Keyring(store, kek_provider=StaticKekProvider(KEK, kek_id=KEK_ID))
    opened = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"keys": len(ring._state.by_id), "read": read, "open": opened, "mb": peak,
                      "refused": store.refused}))  # fmt: skip
    store.close()


async def _raw_read(bootstrap: str, topic: str) -> int:
    """The baseline: a plain aiokafka consumer reads the topic to its end, keeps nothing."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    tp = TopicPartition(topic, 0)
    fetch = 32 << 20
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                max_partition_fetch_bytes=fetch, fetch_max_bytes=fetch)  # fmt: skip
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end, seen, last = (await consumer.end_offsets([tp]))[tp], 0, -1
        while last + 1 < end:
            for m in (await consumer.getmany(tp, timeout_ms=100, max_records=50_000)).get(tp, []):
                seen, last = seen + 1, m.offset
        return seen
    finally:
        await consumer.stop()


def _raw_child(bootstrap: str, topic: str) -> None:
    t0 = time.perf_counter()
    seen = asyncio.run(_raw_read(bootstrap, topic))
    raw = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"records": seen, "raw": raw, "raw_mb": peak}))


def _measure(bootstrap: str, topic: str) -> dict[str, float]:
    result: dict[str, float] = {}
    for mode in ("--raw-child", "--child"):
        out = subprocess.run([sys.executable, __file__, mode, topic], capture_output=True,
                             check=True, env=os.environ, timeout=900)  # fmt: skip
        result.update(json.loads(out.stdout.decode().strip().splitlines()[-1]))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--child")
    parser.add_argument("--raw-child")
    args = parser.parse_args()
    bootstrap = os.environ.get("STREAMSEC_BROKER", "127.0.0.1:19092")
    if args.child:
        _child(bootstrap, args.child)
        return 0
    if args.raw_child:
        _raw_child(bootstrap, args.raw_child)
        return 0
    rows = []
    for n in (args.keys // 10, args.keys):
        topic = f"bench-keys-{n}-{uuid.uuid4().hex[:8]}"
        t0 = time.perf_counter()
        asyncio.run(_fill(bootstrap, topic, n))
        fill = time.perf_counter() - t0
        try:
            rows.append((n, fill, _measure(bootstrap, topic)))
        finally:
            asyncio.run(_delete(bootstrap, topic))
    print("per-subject keys in the Kafka registry; each open is a fresh process; baseline: "
          "a plain aiokafka consumer reading the same topic to its end (raw), same run")
    print(f"{'keys':>9} {'fill s':>7} {'raw s':>6} {'read s':>7} {'open s':>7} {'start s':>8} "
          f"{'x raw':>6} {'peak MB':>8} {'raw MB':>7} {'start/key us':>12}")  # fmt: skip
    base = None
    for n, fill, r in rows:
        start = r["read"] + r["open"]
        per_key = start / n * 1e6
        base = base or per_key
        print(f"{n:>9} {fill:>7.1f} {r['raw']:>6.1f} {r['read']:>7.1f} {r['open']:>7.1f} "
              f"{start:>8.1f} {start / r['raw']:>6.2f} {r['mb']:>8.0f} {r['raw_mb']:>7.0f} "
              f"{per_key:>12.1f}  ({per_key / base:.2f}x the per-key cost at {rows[0][0]}; "
              f"{r['keys']:.0f} keys, {r['refused']:.0f} refused)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
