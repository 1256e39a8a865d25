"""``streamsec protect``: the worker's record pipeline over JSON Lines files.

A file source and a file sink around :class:`~streamsec.pipeline.RecordPipeline`,
the very pipeline the worker runs: same protection (record keys included, with
``--keyed``), same output size check, same dead letters, same audit and lineage
events. One protected line per good input line, in order.

Bad lines are never dropped silently: with ``--dead-letter`` they go there (line
number, reason code, the original line); without it each is reported on stderr by
line number and reason, and the command exits 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from streamsec.cli.io import add_settings_args, open_input, open_output, settings_from
from streamsec.pipeline.model import Outcome, SourceRecord

if TYPE_CHECKING:
    from streamsec.pipeline.files import SourceLine
    from streamsec.pipeline.pipeline import RecordPipeline

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("protect", help="protect a JSON Lines file with a topology (offline)")
    p.add_argument("--topology", "-t", required=True, help="topology YAML file")
    p.add_argument("--in", dest="input", default="-", help="input JSON Lines (default stdin)")
    p.add_argument("--out", default="-", help="protected output (default stdout)")
    p.add_argument(
        "--dead-letter", metavar="FILE",
        help="where bad lines go; without it they are reported on stderr and the exit code is 1",
    )
    p.add_argument("--audit", help="write audit events (JSON Lines) here")
    p.add_argument("--lineage", help="write lineage events (JSON Lines) here")
    p.add_argument(
        "--keyed", action="store_true",
        help='lines are {"key": ..., "value": ...} (as `consume --meta` prints): the record '
        "key is protected too, and a null value is a tombstone",
    )
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--quiet", "-q", action="store_true", help="no summary and no progress bar")
    add_settings_args(p)
    p.set_defaults(func=run)


class Summary:
    def __init__(self) -> None:
        self.records = 0
        self.protected = 0
        self.dead = Counter[str]()
        self.entities = Counter[str]()
        self.actions = Counter[str]()
        self.started = time.perf_counter()

    def add(self, outcome: Outcome) -> None:
        self.records += 1
        if outcome.reason is not None:
            self.dead[outcome.reason] += 1
            return
        self.protected += 1
        self.entities.update(outcome.detections)
        self.actions.update(outcome.actions)

    def render(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        lines = [
            f"records: {self.records}  protected: {self.protected}  "
            f"dead-lettered: {sum(self.dead.values())}  "
            f"({self.records / elapsed:,.0f} records/s in {elapsed:.2f}s)"
        ]
        for title, counts in (
            ("dead-letter reasons", self.dead), ("entities", self.entities),
            ("actions", self.actions),
        ):
            if counts:
                lines.append(f"{title}: " + ", ".join(f"{k}={v}" for k, v in counts.most_common()))
        return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from streamsec.cli.progress import file_size, progress
    from streamsec.events.sinks import actor_id
    from streamsec.pipeline.files import FileSink, FileSource
    from streamsec.pipeline.runtime import open_pipeline
    from streamsec.topology.loader import load_topology

    if args.batch_size < 1:
        print("streamsec: error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    settings = settings_from(args)
    topology = load_topology(args.topology)
    pipeline = open_pipeline(topology, settings, worker_id=actor_id(settings, "protect"))
    pipeline.events.bootstrap = settings.broker or "localhost:9092"
    name = "stdin" if args.input in ("-", None) else args.input
    summary = Summary()
    unreported: list[Outcome] = []
    with (
        open_input(args.input) as handle,
        open_output(args.out) as out,
        open_output(args.dead_letter) as dead,
        open_output(args.audit) as audit,
        open_output(args.lineage) as lineage,
        progress("protecting", total=file_size(args.input), unit="bytes",
                 enabled=not args.quiet) as bar,
    ):
        source = FileSource(handle, name=name, keyed=args.keyed)
        sink = FileSink(
            topology, out=out, dead_letter=dead, audit=audit, lineage=lineage, keyed=args.keyed
        )
        error: BaseException | None = None
        try:
            for batch in source.batches(args.batch_size):
                for outcome in _process(pipeline, batch):
                    sink.write(outcome)
                    summary.add(outcome)
                    if outcome.reason is not None and dead is None:
                        unreported.append(outcome)
                bar.update(source.bytes_read)
        except BaseException as exc:
            error = exc
            raise
        finally:
            sink.write_events(pipeline.close_chains(None, error=error))
    for outcome in unreported:
        print(f"line {outcome.source.offset}: dead letter ({outcome.reason})", file=sys.stderr)
    if not args.quiet:
        print(summary.render(), file=sys.stderr)
    if unreported:
        print(
            f"streamsec: error: {len(unreported)} line(s) could not be protected and were not "
            "written; give --dead-letter FILE to keep them",
            file=sys.stderr,
        )
        return 1
    return 0


def _process(pipeline: RecordPipeline, batch: list[SourceLine]) -> list[Outcome]:
    """One outcome per line, in line order (a line that is not even a record is a
    dead letter between the runs of the pipeline around it)."""
    outcomes: list[Outcome] = []
    run: list[SourceRecord] = []
    for line in batch:
        if line.error is None:
            run.append(line.record)
            continue
        outcomes += pipeline.process(run)
        run = []
        outcomes.append(pipeline.dead_letter(line.record, line.error))
    outcomes += pipeline.process(run)
    return outcomes
