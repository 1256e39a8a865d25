"""Does a long-running worker's memory grow with the values it reads?

spaCy keeps every token it has not seen (an e-mail address, an order id, a new
surname) in its vocabulary for good, unless it reads them inside a memory zone (what
detection does, ``NerSpacyNlpEngine.memory_zone``). This runs the worker's pure
pipeline (``pipeline_cpu``: the harness topology, real keyring, detector, audit and
lineage events, warmed up as a worker warms up) over ``--records`` new mixed records in
two fresh processes, one as shipped and one with the zone switched off (the
baseline, same run), and prints each one's RSS and spaCy's string count every
``--every`` records.

    .venv/bin/python benchmarks/memory_growth.py [--records 40000] [--every 5000]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def child(records: int, every: int, zone: bool) -> None:
    import pipeline_cpu as pc
    from _common import temp_settings, warm_like_worker

    from streamsec.pipeline.runtime import open_pipeline
    from streamsec.topology import parse_topology

    kinds = pc.KINDS["mixed"]
    topology = parse_topology("name: perf\ninput: raw.perf\noutput: out.perf\n" + pc.RULES)
    pipeline = open_pipeline(topology, temp_settings(), worker_id="perf")
    warm_like_worker([pipeline])
    pipeline.process(pc.sources(2 * pc.BATCH, 1009, kinds, 1, prefix="warm-streamsec"))
    engine = pipeline.protector.detector._batch_engine()
    if not zone:
        engine._zone = contextlib.nullcontext
    vocab = engine._nlp.nlp["en"].vocab
    label = "as shipped (zone)" if zone else "no zone (baseline)"
    start_rss, start_strings = _rss_mb(), len(vocab.strings)
    print(f"{label}: after warm-up RSS {start_rss:.1f} MB, {start_strings} strings", flush=True)
    done, cpu = 0, time.process_time()
    while done < records:
        n = min(every, records - done)
        pc.run(pipeline, pc.sources(n, 9 + done, kinds, first=done), None)
        done += n
        print(
            f"{label}: {done:6d} records  RSS {_rss_mb():6.1f} MB "
            f"({_rss_mb() - start_rss:+5.1f})  strings {len(vocab.strings):7d} "
            f"({len(vocab.strings) - start_strings:+6d})  "
            f"{(time.process_time() - cpu) * 1e3 / done:.3f} ms CPU/record",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=40_000)
    parser.add_argument("--every", type=int, default=5_000)
    parser.add_argument("--child", choices=["zone", "nozone"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.records, args.every, args.child == "zone")
        return 0
    for mode in ("nozone", "zone"):  # one after the other: each has the CPUs it needs
        subprocess.run(
            [sys.executable, __file__, "--records", str(args.records), "--every",
             str(args.every), "--child", mode],
            check=True,
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    from _common import pin_hash_seed

    pin_hash_seed()
    sys.exit(main())
