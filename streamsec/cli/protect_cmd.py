"""``streamsec protect``: the protection core over JSON Lines files.

One protected line per good input line, in order. Bad lines go to the dead-letter
output with their line number and reason, never to the output.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

from streamsec.cli.io import add_settings_args, json_line, open_input, open_output, settings_from
from streamsec.errors import RecordError
from streamsec.protection.result import ProtectionFailure, ProtectionResult
from streamsec.records.decoding import decode_record

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("protect", help="protect a JSON Lines file with a topology (offline)")
    p.add_argument("--topology", "-t", required=True, help="topology YAML file")
    p.add_argument("--in", dest="input", default="-", help="input JSON Lines (default stdin)")
    p.add_argument("--out", default="-", help="protected output (default stdout)")
    p.add_argument("--dead-letter", help="where bad lines go (default: stderr summary only)")
    p.add_argument("--audit", help="write audit events (JSON Lines) here")
    p.add_argument("--lineage", help="write lineage events (JSON Lines) here")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--quiet", "-q", action="store_true", help="no summary on stderr")
    add_settings_args(p)
    p.set_defaults(func=run)


def _batches(handle: IO[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        batch.append((number, line.rstrip(b"\r\n")))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Summary:
    def __init__(self) -> None:
        self.records = 0
        self.protected = 0
        self.dead = Counter[str]()
        self.entities = Counter[str]()
        self.actions = Counter[str]()
        self.started = time.perf_counter()

    def add(self, result: ProtectionResult) -> None:
        self.protected += 1
        for action in result.actions:
            self.actions[action.action] += action.spans
            for entity in action.entity_types:
                self.entities[entity] += 1

    def render(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        lines = [
            f"records: {self.records}  protected: {self.protected}  "
            f"dead-lettered: {sum(self.dead.values())}  "
            f"({self.records / elapsed:,.0f} records/s in {elapsed:.2f}s)"
        ]
        if self.dead:
            lines.append(
                "dead-letter reasons: " + ", ".join(f"{k}={v}" for k, v in self.dead.most_common())
            )
        if self.entities:
            lines.append(
                "entities: " + ", ".join(f"{k}={v}" for k, v in self.entities.most_common())
            )
        if self.actions:
            lines.append("actions: " + ", ".join(f"{k}={v}" for k, v in self.actions.most_common()))
        return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from streamsec.cli.event_files import EventWriters
    from streamsec.protection.protector import Protector

    settings = settings_from(args)
    protector = Protector.from_topology(args.topology, settings=settings)
    summary = Summary()
    progress = None
    if sys.stderr.isatty() and not args.quiet:
        from tqdm import tqdm

        progress = tqdm(unit=" rec", file=sys.stderr, desc="protecting")
    with (
        open_input(args.input) as source,
        open_output(args.out) as out,
        open_output(args.dead_letter) as dead,
        EventWriters.open(
            protector, settings, _source_name(args.input), args.audit, args.lineage
        ) as events,
    ):
        for batch in _batches(source, args.batch_size):
            good: list[tuple[int, dict[str, Any]]] = []
            for number, raw in batch:
                summary.records += 1
                try:
                    good.append(
                        (
                            number,
                            decode_record(
                                raw,
                                max_bytes=settings.max_record_bytes,
                                max_depth=settings.max_depth,
                            ),
                        )
                    )
                except RecordError as exc:
                    _dead_letter(dead, summary, number, raw, exc.reason, str(exc))
                    events.dead_lettered(number, exc)
            results = protector.protect_many([record for _, record in good])
            for (number, record), result in zip(good, results, strict=True):
                if isinstance(result, ProtectionFailure):
                    raw = next(r for n, r in batch if n == number)
                    _dead_letter(dead, summary, number, raw, result.reason, str(result.error))
                    events.dead_lettered(number, result.error)
                    continue
                summary.add(result)
                if out is not None:
                    out.write(json_line(result.record))
                events.protected(number, record, result)
            if progress is not None:
                progress.update(len(batch))
    if progress is not None:
        progress.close()
    if not args.quiet:
        print(summary.render(), file=sys.stderr)
    return 0


def _source_name(path: str) -> str:
    return "file:stdin" if path in ("-", None) else f"file:{path}"


def _dead_letter(
    dead: IO[str] | None, summary: Summary, number: int, raw: bytes, reason: str, message: str
) -> None:
    summary.dead[reason] += 1
    if dead is not None:
        dead.write(
            json_line(
                {
                    "line": number,
                    "reason": reason,
                    "error": message,
                    "raw": raw.decode("utf-8", errors="replace"),
                }
            )
        )
