"""CPU per record of the worker's pure core, ``RecordPipeline.process``, against the
cheapest possible passthrough work on the same records in the same run.

The pipeline is built exactly as the worker builds it (``open_pipeline``: the harness
topology of ``e2e_kafka``, a real keyring, the real Presidio detector, audit and
lineage events) and fed the harness's records (``generate_corpus``: structured =
customer/payment/event, mixed = + free-text tickets) in batches of the worker's
default size. The warm-up batch uses another seed, so the measured records are new to
the detector's memo, and each repeat uses new records too (``--rounds``).

Baseline: ``json.loads`` + ``json.dumps`` of every record (decode and re-encode, what
a passthrough that looks at the value would do at least). Printed as ms/record and as
the ratio pipeline / baseline (lower is better).

``--granularity both`` measures ``STREAMSEC_AUDIT_GRANULARITY=record`` (an audit
event per record) and ``batch`` (an event per batch and partition) in the same run,
on the same records, and prints batch / record; ``msgs/rec`` is the Kafka messages
the pipeline hands to the producer per record (output + audit + lineage).

    .venv/bin/python benchmarks/pipeline_cpu.py [--records 3000] [--kinds structured|mixed|both]
        [--granularity batch|record|both] [--profile N] [--seed 9]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import temp_settings, warm_like_worker

from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.pipeline.runtime import open_pipeline
from streamsec.settings import Settings
from streamsec.testing.corpus import generate_corpus
from streamsec.topology import parse_topology

RULES = """fields:
  customer_id: keep
  email: {action: encrypt, deterministic: true, entity: EMAIL_ADDRESS}
  card.number: {action: mask, keep_last: 4, entity: CREDIT_CARD}
policy:
  default_action: encrypt
"""
"""The harness topology's rules (``e2e_kafka.RULES``, copied so this script imports
no Kafka client)."""

KINDS = {
    "structured": ("customer", "payment", "event"),
    "mixed": ("customer", "payment", "ticket", "event"),
}
BATCH = Settings.model_fields["batch_size"].default


def sources(n: int, seed: int, kinds: tuple[str, ...], partition: int = 0, *, first: int = 0,
            prefix: str = "tp-streamsec") -> list[SourceRecord]:
    """Records keyed as the harness keys them (``e2e_kafka.workload``)."""
    return [
        SourceRecord("raw.perf", partition, i, f"{prefix}-{first + i:06d}".encode(),
                     json.dumps(c.record).encode(), 0.0)
        for i, c in enumerate(generate_corpus(n, seed, kinds))
    ]


def baseline(batch: list[SourceRecord]) -> float:
    cpu = time.process_time()
    for s in batch:
        json.dumps(json.loads(s.value or b"null"))
    return time.process_time() - cpu


def run(pipeline: RecordPipeline, batch: list[SourceRecord], profiler: cProfile.Profile | None
        ) -> tuple[float, int]:
    """(CPU seconds, messages handed to the producer)."""
    cpu = time.process_time()
    messages = 0
    if profiler:
        profiler.enable()
    for i in range(0, len(batch), BATCH):
        outcomes = pipeline.process(batch[i : i + BATCH])
        messages += sum(len(o.messages) for o in outcomes)
        dead = [o.reason for o in outcomes if o.reason]
        if dead:
            raise SystemExit(f"{len(dead)} dead letters in a benchmark batch: {dead[:3]}")
    if profiler:
        profiler.disable()
    return time.process_time() - cpu, messages


def measure(name: str, n: int, seed: int, rounds: int, profile: int,
            granularity: str = "batch") -> dict[str, float]:
    kinds = KINDS[name]
    settings = temp_settings().model_copy(update={"audit_granularity": granularity})
    topology = parse_topology("name: perf\ninput: raw.perf\noutput: out.perf\n" + RULES)
    pipeline = open_pipeline(topology, settings, worker_id="perf")
    warm_like_worker([pipeline])
    pipeline.process(sources(2 * BATCH, seed + 1000, kinds, 1, prefix="warm-streamsec"))
    best_ours = best_base = float("inf")
    messages = 0
    for r in range(rounds):
        batch = sources(n, seed + r, kinds, first=r * n)
        best_base = min(best_base, baseline(batch))
        cpu, messages = run(pipeline, batch, None)
        best_ours = min(best_ours, cpu)
    ours, base = best_ours * 1e3 / n, best_base * 1e3 / n
    label = f"{name}/{granularity}"
    print(f"{label:18s} {n:7d} {ours:10.4f} {base:10.4f} {ours / base:9.1f}x "
          f"{messages / n:9.3f}", flush=True)
    if profile:
        profiler = cProfile.Profile()
        run(pipeline, sources(n, seed + 500, kinds, first=rounds * n), profiler)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(profile)
        stats.sort_stats("cumulative").print_stats(profile)
        print("\n".join(ln for ln in out.getvalue().splitlines() if ln.strip()))
    return {"ms": ours, "base_ms": base, "messages": messages / n}


def compare(name: str, n: int, seed: int, rounds: int) -> None:
    """Record and batch granularity on the same records, rounds alternating (best of
    ``rounds`` each), so that a shared machine's load hits both alike."""
    kinds = KINDS[name]
    topology = parse_topology("name: perf\ninput: raw.perf\noutput: out.perf\n" + RULES)
    pipelines = {}
    for grain in ("record", "batch"):
        settings = temp_settings().model_copy(update={"audit_granularity": grain})
        pipelines[grain] = open_pipeline(topology, settings, worker_id="perf")
        warm_like_worker([pipelines[grain]])
        pipelines[grain].process(sources(2 * BATCH, seed + 1000, kinds, 1, prefix="warm-s"))
    best = {g: float("inf") for g in pipelines}
    messages = dict.fromkeys(pipelines, 0)
    for r in range(rounds):
        batch = sources(n, seed + r, kinds, first=r * n)
        for grain in (("record", "batch") if r % 2 == 0 else ("batch", "record")):
            cpu, messages[grain] = run(pipelines[grain], batch, None)
            best[grain] = min(best[grain], cpu)
    ms = {g: best[g] * 1e3 / n for g in best}
    for grain in ("record", "batch"):
        print(f"{name + '/' + grain:18s} {n:7d} {ms[grain]:10.4f} {'':>10s} {'':>10s} "
              f"{messages[grain] / n:9.3f}", flush=True)
    print(f"{name}: batch / record {ms['batch'] / ms['record']:.2f}x CPU per record "
          f"({ms['record'] - ms['batch']:+.4f} ms/record saved), messages "
          f"{messages['record'] / n:.3f} -> {messages['batch'] / n:.3f} per record", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--kinds", choices=["structured", "mixed", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=2, help="best of N, new records each")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile top N")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--granularity", choices=["batch", "record", "both"], default="batch",
                        help="STREAMSEC_AUDIT_GRANULARITY; both: record then batch, same run")
    args = parser.parse_args()
    names = list(KINDS) if args.kinds == "both" else [args.kinds]
    grains = ["record", "batch"] if args.granularity == "both" else [args.granularity]
    print(f"batches of {BATCH}; CPU time, best of {args.rounds}; "
          "baseline = json.loads+json.dumps of the same records")
    print(f"{'records':18s} {'n':>7s} {'ms/record':>10s} {'base ms':>10s} {'ratio':>10s} "
          f"{'msgs/rec':>9s}")
    for name in names:
        if len(grains) == 1:
            measure(name, args.records, args.seed, args.rounds, args.profile, grains[0])
        else:
            compare(name, args.records, args.seed, args.rounds)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
