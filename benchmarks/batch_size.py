"""CPU per record of ``RecordPipeline.process`` by batch size, against the batch of
64 measured in the same run (the worker cuts small batches at a paced rate: ~3.5
records on average at 50% of the maximum rate, issue 14's p99 target).

The pipeline is built as the worker builds it (``open_pipeline``, the harness
topology, a real keyring, the real detector, audit and lineage events, batch audit
granularity) and fed the harness's structured records (``pipeline_cpu.sources``),
each size on new records after a shared warm-up, then the process set up as a
worker sets itself up (``warm_like_worker``: prefilter built, collect, freeze, its
thresholds). Sizes are measured in alternating order per round (best of
``--rounds``), so a shared machine's load hits them alike.
Printed: ms/record, ratio to the batch of 64, and the fixed cost per batch
estimated as (ms/record(size) - ms/record(64)) * size.

    .venv/bin/python benchmarks/batch_size.py [--records 384] [--rounds 3]
        [--sizes 1,2,4,8,64] [--kinds structured|mixed] [--profile N --profile-size 1]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import temp_settings, warm_like_worker
from pipeline_cpu import KINDS, RULES, sources

from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.pipeline.runtime import open_pipeline
from streamsec.topology import parse_topology

BASE = 64


def run(pipeline: RecordPipeline, records: list[SourceRecord], size: int) -> float:
    """CPU seconds of ``process`` over ``records`` cut in batches of ``size``."""
    cpu = time.process_time()
    for i in range(0, len(records), size):
        outcomes = pipeline.process(records[i : i + size])
        dead = [o.reason for o in outcomes if o.reason]
        if dead:
            raise SystemExit(f"{len(dead)} dead letters in a benchmark batch: {dead[:3]}")
    return time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=384, help="per size and round")
    parser.add_argument("--rounds", type=int, default=3, help="best of N, new records each")
    parser.add_argument("--sizes", default="1,2,4,8,64")
    parser.add_argument("--kinds", choices=list(KINDS), default="structured")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--profile", type=int, default=0, help="print cProfile top N")
    parser.add_argument("--profile-size", type=int, default=1)
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",")} | {BASE})
    kinds = KINDS[args.kinds]
    n = args.records
    topology = parse_topology("name: perf\ninput: raw.perf\noutput: out.perf\n" + RULES)
    pipeline = open_pipeline(topology, temp_settings(), worker_id="perf")
    pipeline.process(sources(2 * BASE, args.seed + 1000, kinds, 1, prefix="warm-streamsec"))
    warm_like_worker([pipeline])
    best = dict.fromkeys(sizes, float("inf"))
    first = 0
    for r in range(args.rounds):
        for size in (sizes if r % 2 == 0 else sizes[::-1]):
            records = sources(n, args.seed + first, kinds, first=first)
            first += n
            best[size] = min(best[size], run(pipeline, records, size))
    ms = {s: best[s] * 1e3 / n for s in sizes}
    print(f"{args.kinds}: {n} records per size, CPU time, best of {args.rounds}; "
          f"baseline = batches of {BASE} in the same run")
    print(f"{'batch':>6s} {'ms/record':>10s} {'vs 64':>7s} {'fixed ms/batch':>15s}")
    for size in sizes:
        fixed = (ms[size] - ms[BASE]) * size
        print(f"{size:6d} {ms[size]:10.4f} {ms[size] / ms[BASE]:6.2f}x {fixed:15.4f}",
              flush=True)
    if args.profile:
        profiler = cProfile.Profile()
        records = sources(n, args.seed + first, kinds, first=first)
        profiler.enable()
        run(pipeline, records, args.profile_size)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
        print("\n".join(ln for ln in out.getvalue().splitlines() if ln.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
