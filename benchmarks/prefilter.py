"""Detection CPU per value with the one-pass Hyperscan prefilter
(``streamsec/detection/recognizers/_prefilter.py``) against the same detector
without it, in one process, alternating, on the same values: (a) the leaves of
the harness's structured records (``generate_corpus`` customer/payment/event,
each under its own path) plus record keys shaped as the harness's
(``tp-<6 hex>-<6 digits>``), (b) the same for mixed records (+ free-text
tickets). Each round uses a fresh detector (empty memo), batches of 64 values.
Checks the findings are the same; prints microseconds per value, the ratio and
the database's size. Then (c) the worker's pure core as ``pipeline_cpu.py`` builds
it, one pipeline per side, the same new records each round, alternating: CPU
ms/record with and without the prefilter, and the messages checked equal.

    .venv/bin/python benchmarks/prefilter.py [--records 600] [--rounds 5]
        [--pipeline-records 1500]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from typing import Any

import pipeline_cpu as pc

from streamsec.detection.detector import PresidioDetector
from streamsec.detection.recognizers import _prefilter
from streamsec.testing.corpus import generate_corpus

KINDS = {
    "structured": ("customer", "payment", "event"),
    "mixed": ("customer", "payment", "ticket", "event"),
}
BATCH = 64


def _leaves(value: Any, path: str = "$") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _leaves(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v, f"{path}[*]")]
    if value is None or isinstance(value, bool):
        return []
    return [(path, str(value))]


def _items(records: int, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    rng = random.Random(5)
    items = [x for c in generate_corpus(records, 9, kinds) for x in _leaves(c.record)]
    keys = [f"tp-{rng.getrandbits(24):06x}-{i:06d}" for i in range(records)]
    return items + [("$.key", k) for k in keys]


def _run(items: list[tuple[str, str]]) -> tuple[float, list[Any]]:
    detector = PresidioDetector()
    detector.warm_up()
    cpu = time.process_time()
    found = []
    for i in range(0, len(items), BATCH):
        found += detector.detect(items[i : i + BATCH])
    return time.process_time() - cpu, found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pipeline-records", type=int, default=1500)
    args = parser.parse_args()
    _run([("$.warm", "warm up jane@example.com")])
    stats = _prefilter.stats()
    print(
        f"prefilter database: {stats.in_database} of {stats.registered} patterns, "
        f"{stats.database_bytes / 1e6:.2f} MB; always run: {sorted(stats.refused)}"
    )
    print(f"detection CPU us per value, best of {args.rounds}, alternating, batches of {BATCH}")
    print(f"{'records':10s} {'values':>7s} {'without':>10s} {'with':>10s} {'ratio':>7s}")
    for name, kinds in KINDS.items():
        items = _items(args.records, kinds)
        best = {"without": float("inf"), "with": float("inf")}
        for _ in range(args.rounds):
            with _prefilter.disabled():
                a, without = _run(items)
            b, with_prefilter = _run(items)
            if without != with_prefilter:
                raise SystemExit(f"{name}: the prefilter changed the findings")
            best["without"], best["with"] = min(best["without"], a), min(best["with"], b)
        n = len(items)
        us = {k: v / n * 1e6 for k, v in best.items()}
        print(
            f"{name:10s} {n:7d} {us['without']:10.1f} {us['with']:10.1f} "
            f"{us['with'] / us['without']:6.2f}x",
            flush=True,
        )
    if args.pipeline_records:
        _pipelines(args.pipeline_records, args.rounds)
    return 0


def _pipelines(n: int, rounds: int) -> None:
    print(f"pipeline (pipeline_cpu.py's), CPU ms/record, best of {rounds}, alternating")
    for name, kinds in KINDS.items():
        topology = pc.parse_topology("name: perf\ninput: raw.perf\noutput: out.perf\n" + pc.RULES)
        sides = {}
        for side in ("without", "with"):
            sides[side] = pc.open_pipeline(topology, pc.temp_settings(), worker_id="perf")
            sides[side].process(pc.sources(2 * BATCH, 1009, kinds, 1, prefix="warm-streamsec"))
        best = {side: float("inf") for side in sides}
        for r in range(rounds):
            batch = pc.sources(n, 9 + r, kinds, first=r * n)
            for side in ("without", "with") if r % 2 == 0 else ("with", "without"):
                if side == "without":
                    with _prefilter.disabled():
                        cpu, _ = pc.run(sides[side], batch, None)
                else:
                    cpu, _ = pc.run(sides[side], batch, None)
                best[side] = min(best[side], cpu)
        ms = {side: v * 1e3 / n for side, v in best.items()}
        print(
            f"{name:10s} {n:7d} {ms['without']:10.4f} {ms['with']:10.4f} "
            f"{ms['with'] / ms['without']:6.2f}x",
            flush=True,
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB (database {_prefilter.stats().database_bytes / 1e6:.2f} MB)")


if __name__ == "__main__":
    sys.exit(main())
