"""The worker's send path alone: a batch of protected records and audit events through
the Faust app's producer, one ``send`` per message (baseline) against one aiokafka
record batch per partition (``FaustDelivery.send_all``), alternating, same run.

    .venv/bin/python benchmarks/send_path.py [--bootstrap H:P] [--rounds 60] [--batch 64]
                                             [--max-batch BYTES]

Prints the CPU microseconds per message of each and their ratio (CPU time of this
process: the producer's encoding, the futures and the acks; the broker is apart), and
the wall milliseconds per delivered batch. ``--max-batch``: the producer's
``max_batch_size`` (default: the worker's, ``streamsec.worker.delivery.PRODUCER_BATCH_BYTES``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

import faust

from streamsec.pipeline.model import OutMessage
from streamsec.worker.delivery import PRODUCER_BATCH_BYTES, FaustDelivery, send_each


def _messages(run: str, batch: int) -> list[OutMessage]:
    out = []
    for i in range(batch):
        record = {"id": i, "email": os.urandom(48).hex(), "card": os.urandom(64).hex(),
                  "note": "x" * 200}
        audit = {"seq": i, "digest": os.urandom(32).hex(), "fields": ["email", "card"] * 8,
                 "detail": "y" * 600}
        headers = (("streamsec-topology", b"perf"), ("streamsec-key-id", b"k1"))
        out.append(OutMessage(f"send-out-{run}", f"r{i}".encode(),
                              json.dumps(record).encode(), headers))
        out.append(OutMessage(f"send-audit-{run}", b"chain-0", json.dumps(audit).encode()))
    return out


async def main(bootstrap: str, rounds: int, batch: int, max_batch: int) -> None:
    run = uuid.uuid4().hex[:6]
    app = faust.App(f"send-path-{run}", broker=f"kafka://{bootstrap}", web_enabled=False,
                    topic_partitions=1, producer_acks=-1, producer_max_batch_size=max_batch)
    delivery = FaustDelivery(app)
    messages = _messages(run, batch)
    await delivery.send_all(messages)  # creates the topics, warms the metadata
    topics = {m.topic: delivery.topic(m.topic) for m in messages}

    async def each() -> None:
        futures = []
        for m in messages:
            futures += await send_each(topics[m.topic], [m])
        await asyncio.gather(*futures)

    cpu = {"one send per message": 0.0, "record batch per partition": 0.0}
    wall = dict.fromkeys(cpu, 0.0)
    for _ in range(rounds):
        for name, step in (("one send per message", each),
                           ("record batch per partition", lambda: delivery.send_all(messages))):
            started, clock = time.process_time(), time.perf_counter()
            await step()
            cpu[name] += time.process_time() - started
            wall[name] += time.perf_counter() - clock
    per = {k: v * 1e6 / (rounds * len(messages)) for k, v in cpu.items()}
    base = per["one send per message"]
    print(f"max_batch_size {max_batch} bytes; {len(messages)} messages per batch")
    for name, value in per.items():
        print(f"{name:28s} {value:7.1f} us CPU/message  {value / base:5.2f}x"
              f"  {wall[name] * 1000 / rounds:6.2f} ms wall/batch")
    await app.producer.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", default=os.environ.get("STREAMSEC_BROKER",
                                                              "127.0.0.1:19092"))
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--max-batch", type=int, default=PRODUCER_BATCH_BYTES)
    args = parser.parse_args()
    asyncio.run(main(args.bootstrap, args.rounds, args.batch, args.max_batch))
