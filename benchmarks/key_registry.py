"""Start-up time and memory of a process that opens the Kafka key registry.

Fills a fresh registry topic on the broker (``STREAMSEC_BROKER``) with ``--keys``
per-subject keys (real wrapped keys, authenticated entries), then, in a fresh
child process each time, measures how long reading it to the end takes, how
long opening a keyring over it takes (MAC checks, first-writer-wins, the key
index), and the child's peak memory. The baseline, in the same run, is the same
measurement at ``--keys / 10``::

    STREAMSEC_BROKER=127.0.0.1:19092 .venv/bin/python benchmarks/key_registry.py [--keys 1000000]

Measured on the shared 2-core development machine with ``--keys 200000`` (the 1M run
takes over 5 minutes, beyond the benchmark budget): 20,000 keys start in 2.0 s
(130 MB); 200,000 in 23.2 s (859 MB), 116 us and ~4 KB per key, linear, so about
2 minutes and 4 GB at 1,000,000. The cost is Python per entry (JSON, HMAC, the
record object) in the process that opens the registry.
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
from streamsec.crypto.keys import KeyPurpose
from streamsec.crypto.providers.local import StaticKekProvider
from streamsec.crypto.wrapping import new_record
from streamsec.kafka import KafkaConnection, new_producer
from streamsec.keystore.kafka_io import ensure_topic
from streamsec.keystore.kafka_store import HEADER

KEK = bytes(range(32))
KEK_ID = "kbenchmarka"


def _entry(key: bytes, body: dict[str, object]) -> bytes:
    entry = {**body, "rev": 1}
    return json.dumps({**entry, "mac": entry_mac(key, entry)}, separators=(",", ":"),
                      sort_keys=True).encode()  # fmt: skip


async def _fill(bootstrap: str, topic: str, n: int) -> None:
    provider = StaticKekProvider(KEK, kek_id=KEK_ID)
    doc = new_document(provider, kek_id=KEK_ID)
    from streamsec.crypto.keyring import Keyring

    ring = Keyring(MemoryStore(doc), kek_provider=provider)
    key = mac_key(ring._index_key)
    conn = KafkaConnection(bootstrap)
    await ensure_topic(conn, topic)
    producer = new_producer(conn, linger_ms=50, max_batch_size=1 << 20)
    await producer.start()
    try:
        header = doc.model_dump(mode="json", exclude={"keys", "mac", "generation"})
        await producer.send_and_wait(topic, _entry(key, {"document": header}),
                                     key=HEADER.encode(), partition=0)  # fmt: skip
        pending = []
        for i in range(n):
            slot = ("customers", KeyPurpose.ENCRYPT, ring.subject_hash("customers", f"S{i}"),
                    "default")  # fmt: skip
            record = new_record(slot, 1, provider, taken=())
            data = record.model_dump(mode="json")
            pending.append(await producer.send(topic, _entry(key, {"record": data}),
                                               key=record.id.encode(), partition=0))  # fmt: skip
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
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
    print(json.dumps({"keys": len(ring._by_id), "read": read, "open": opened, "mb": peak,
                      "refused": store.refused}))  # fmt: skip
    store.close()


def _measure(bootstrap: str, topic: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", topic], capture_output=True,
                         check=True, env=os.environ, timeout=900)  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--child")
    args = parser.parse_args()
    bootstrap = os.environ.get("STREAMSEC_BROKER", "127.0.0.1:19092")
    if args.child:
        _child(bootstrap, args.child)
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
    print("per-subject keys in the Kafka registry; each open is a fresh process")
    print(f"{'keys':>9} {'fill s':>7} {'read s':>7} {'open s':>7} {'start s':>8} "
          f"{'peak MB':>8} {'start/key us':>12}")  # fmt: skip
    base = None
    for n, fill, r in rows:
        start = r["read"] + r["open"]
        per_key = start / n * 1e6
        base = base or per_key
        print(f"{n:>9} {fill:>7.1f} {r['read']:>7.1f} {r['open']:>7.1f} {start:>8.1f} "
              f"{r['mb']:>8.0f} {per_key:>12.1f}  ({per_key / base:.2f}x the baseline per key; "
              f"{r['keys']:.0f} keys, {r['refused']:.0f} refused)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
