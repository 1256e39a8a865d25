"""``streamsec topology validate|explain``."""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from typing import Any

from streamsec.cli.io import add_settings_args, open_input, settings_from
from streamsec.errors import RecordError

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("topology", help="validate or explain a topology")
    tsub = p.add_subparsers(dest="topology_command", required=True, metavar="ACTION")
    v = tsub.add_parser("validate", help="check topology files; exit 2 naming the file and key")
    v.add_argument("topology", nargs="+")
    v.set_defaults(func=validate)
    e = tsub.add_parser("explain", help="show how each path of sample records is classified")
    e.add_argument("topology")
    e.add_argument("--in", dest="input", required=True, help="sample records (JSON Lines)")
    add_settings_args(e)
    e.set_defaults(func=explain)


def validate(args: argparse.Namespace) -> int:
    from streamsec.topology.loader import load_topology

    for path in args.topology:
        topo = load_topology(path)  # raises TopologyError -> exit 2 in main
        print(
            f"ok  {path}: {topo.name} v{topo.version}  {topo.input} -> {topo.output}  "
            f"({len(topo.fields)} field rules, default {topo.policy.default_action}, "
            f"dead letter {topo.dead_letter_topic})"
        )
    return 0


def explain(args: argparse.Namespace) -> int:
    from streamsec.protection.protector import Protector
    from streamsec.records.decoding import decode_record

    settings = settings_from(args)
    protector = Protector.from_topology(args.topology, settings=settings)
    rows: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    records = bad = 0
    with open_input(args.input) as source:
        for line in source:
            if not line.strip():
                continue
            try:
                record = decode_record(
                    line, max_bytes=settings.max_record_bytes, max_depth=settings.max_depth
                )
            except RecordError as exc:
                bad += 1
                print(f"skipped a bad line: {exc.reason}", file=sys.stderr)
                continue
            records += 1
            for step in protector.explain(record).plan.steps:
                key = (
                    step.path, ",".join(step.entity_types) or "-",
                    step.category.value if step.category else "-",
                    step.sensitivity.value if step.sensitivity else "-",
                    step.rule.action, step.mode, step.source,
                )
                rows[key]["n"] += 1
    header = ("path", "entities", "category", "sensitivity", "action", "mode", "source", "records")
    table = [header] + [(*k, str(c["n"])) for k, c in sorted(rows.items())]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"\n{records} records explained, {bad} bad lines; paths not listed are left as they are.")
    return 0
