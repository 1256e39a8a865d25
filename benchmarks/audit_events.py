"""CPU per record of the worker's audit events alone: per record against per batch.

The field actions of real records (the ``pipeline_cpu`` harness topology and corpus
through the real pipeline once) are replayed through :class:`RecordEvents` as the
pipeline calls it: ``STREAMSEC_AUDIT_GRANULARITY=record`` (seal an event per record)
against ``batch`` (list each record, one event per batch and partition), each with
the batch's signed checkpoint and the wire bytes of every event, in batches of the
worker's size. Rounds alternate between the two; best of ``--rounds``. The baseline
is the per-record form, measured in the same run.

    .venv/bin/python benchmarks/audit_events.py [--records 2000] [--rounds 7] [--kinds mixed]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import temp_settings
from pipeline_cpu import BATCH, KINDS, RULES, sources

from streamsec.events.canonical import wire
from streamsec.events.signing import AuditIdentity
from streamsec.events.trail import AuditTrail
from streamsec.pipeline.events import RecordEvents
from streamsec.pipeline.model import SourceRecord
from streamsec.pipeline.runtime import open_pipeline
from streamsec.protection.result import FieldAction
from streamsec.topology import parse_topology
from streamsec.topology.model import Topology

Replay = list[tuple[SourceRecord, dict[str, str], tuple[FieldAction, ...]]]


def capture(topology: Topology, records: list[SourceRecord]) -> Replay:
    """What the real pipeline hands to ``RecordEvents.protected`` for these records."""
    pipeline = open_pipeline(topology, temp_settings(), worker_id="perf")
    seen: Replay = []
    real = pipeline.events.protected

    def keep(source: SourceRecord, leaves: Any, actions: Any) -> Any:
        seen.append((source, dict(leaves), tuple(actions)))
        return real(source, leaves, actions)

    pipeline.events.protected = keep  # type: ignore[method-assign]
    for i in range(0, len(records), BATCH):
        pipeline.process(records[i : i + BATCH])
    return seen


def replay(topology: Topology, grain: str, calls: Replay) -> tuple[float, int]:
    """(CPU seconds, audit bytes) of the audit events of ``calls``, batch by batch."""
    trail = AuditTrail(AuditIdentity.ephemeral(), actor="perf", topology=topology.name)
    events = RecordEvents(topology, trail, granularity=grain)  # type: ignore[arg-type]
    size = 0
    cpu = time.process_time()
    for i in range(0, len(calls), BATCH):
        sealed: list[dict[str, Any]] = []
        for source, leaves, actions in calls[i : i + BATCH]:
            sealed += events.protected(source, leaves, actions)[0]
        for more in events.flush().values():
            sealed += more
        sealed += events.checkpoints()
        size += sum(len(wire(e)) for e in sealed)
        trail.batch_delivered()
    return time.process_time() - cpu, size


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--kinds", choices=list(KINDS), default="structured")
    args = parser.parse_args()
    topology = parse_topology("name: perf\ninput: raw.perf\noutput: out.perf\n" + RULES)
    calls = capture(topology, sources(args.records, 9, KINDS[args.kinds]))
    best = {"record": float("inf"), "batch": float("inf")}
    size = {"record": 0, "batch": 0}
    for r in range(args.rounds):
        for grain in (("record", "batch") if r % 2 == 0 else ("batch", "record")):
            cpu, size[grain] = replay(topology, grain, calls)
            best[grain] = min(best[grain], cpu)
    n = len(calls)
    us = {g: best[g] * 1e6 / n for g in best}
    print(f"{args.kinds}: {n} protected records, batches of {BATCH}, best of {args.rounds}")
    for grain in ("record", "batch"):
        print(f"  {grain:6s} {us[grain]:8.1f} us CPU per record, "
              f"{size[grain] / n:8.0f} audit bytes per record")
    print(f"  batch / record {us['batch'] / us['record']:.2f}x CPU "
          f"({us['record'] - us['batch']:.1f} us per record saved), "
          f"{size['batch'] / size['record']:.2f}x bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
