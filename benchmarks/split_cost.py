"""Does splitting a topic between two workers cost more CPU in total? (issue 14)

    .venv/bin/python benchmarks/split_cost.py [--records 2000]

The harness's scale-out records (mixed corpus, its keys) are protected offline by the
real pipeline, in batches of 64 after the same warm-up a worker does: once all of them
in one process (one worker), then, each in a fresh process, the records of partitions
0-1 and of partitions 2-3 of a 4-partition topic (murmur2 of the key, as the producer
chooses; what two workers of one group are assigned). Each worker warms its own
detection memo on its share, so the two shares together may cost more than the whole.
Prints the CPU seconds of each and the ratio (two shares / one whole).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def _run(share: str, records: int) -> float:
    sys.path.insert(0, str(HERE))
    from aiokafka.partitioner import murmur2
    from e2e_kafka import RULES, workload

    from streamsec.crypto.keyring_setup import init_keyring
    from streamsec.pipeline.model import SourceRecord
    from streamsec.pipeline.runtime import open_pipeline
    from streamsec.settings import load_settings
    from streamsec.topology.loader import load_topology
    from streamsec.worker.run import warm_up

    home = Path(tempfile.mkdtemp(prefix="split-cost-"))
    init_keyring(home / "keyring.json")
    os.environ.update(STREAMSEC_KEYRING=str(home / "keyring.json"), STREAMSEC_HOME=str(home))
    topology = home / "t.yaml"
    topology.write_text("name: p\ninput: a\noutput: b\naudit: c\nlineage: d\n" + RULES)
    pipeline = open_pipeline(load_topology(topology), load_settings(), worker_id="split")
    warm_up([pipeline])
    warm, data = workload(None, 80, "warm"), workload(None, records, "tp")
    if share != "all":
        mine = {0, 1} if share == "0-1" else {2, 3}
        warm, data = ([r for r in recs if (murmur2(r[0]) & 0x7FFFFFFF) % 4 in mine]
                      for recs in (warm, data))

    def process(recs: list[tuple[bytes, bytes]]) -> None:
        for i in range(0, len(recs), 64):
            pipeline.process([
                SourceRecord(topic="a", partition=0, offset=i + k, key=key, value=value,
                             timestamp=0, headers=())
                for k, (key, value) in enumerate(recs[i:i + 64])
            ])

    process(warm)
    started = time.process_time()
    process(data)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--share", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.share:
        print(_run(args.share, args.records))
        return
    cpu = {}
    for share in ("all", "0-1", "2-3"):
        done = subprocess.run(
            [sys.executable, __file__, "--records", str(args.records), "--share", share],
            capture_output=True, text=True, check=True,
        )
        cpu[share] = float(done.stdout.strip().splitlines()[-1])
        print(f"partitions {share:4s} {cpu[share]:6.3f} CPU s")
    two = cpu["0-1"] + cpu["2-3"]
    print(f"two shares {two:.3f} CPU s / one whole {cpu['all']:.3f} = {two / cpu['all']:.2f}x")


if __name__ == "__main__":
    main()
