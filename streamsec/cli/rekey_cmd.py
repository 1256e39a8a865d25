"""``streamsec rekey``: re-encrypt protected history under the current key versions.

    streamsec rekey --topology T --in FILE --out FILE
    streamsec rekey --topology T --from-topic A --to-topic B

Run it after ``streamsec keys rotate``: every envelope under a retired version is
re-encrypted under the current version of the same key (same algorithm, same data
subject, same field path); current ones are kept byte for byte; shredded ones stay
unreadable. The summary names the retired key ids the output no longer uses: once
every copy of the data is re-keyed they can be destroyed (``keys destroy``). Exits
1 when a record could not be re-keyed (it is copied unchanged and reported).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from streamsec.cli.io import add_settings_args, open_input, open_output, settings_from

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("rekey", help="re-encrypt protected records under the current key versions")
    p.add_argument("--topology", "-t", required=True, help="topology YAML file")
    p.add_argument("--in", dest="input", metavar="FILE", help="protected JSON Lines ('-': stdin)")
    p.add_argument("--out", metavar="FILE", help="re-keyed JSON Lines ('-': stdout)")
    p.add_argument("--from-topic", metavar="A", help="protected topic to read from the beginning")
    p.add_argument("--to-topic", metavar="B", help="topic to write the re-keyed copy to")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (default: $STREAMSEC_BROKER)")
    p.add_argument("--timeout", type=float, default=30.0, help="topic read idle timeout (s)")
    p.add_argument("--json", action="store_true", help="summary as JSON on stderr")
    add_settings_args(p)
    p.set_defaults(func=run)


def _report(where: str, exc: Exception) -> None:
    print(f"{where}: not re-keyed: {exc}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from streamsec.cli.progress import file_size, progress, tracked_lines
    from streamsec.crypto.keyring_setup import open_keyring
    from streamsec.lifecycle.rekey import Rekeyer, RekeySummary
    from streamsec.lifecycle.rekey_io import rekey_lines, rekey_topic
    from streamsec.topology.loader import load_topology

    files = args.input is not None or args.out is not None
    topics = args.from_topic is not None or args.to_topic is not None
    if files == topics or (files and None in (args.input, args.out)) or (
        topics and None in (args.from_topic, args.to_topic)
    ):
        print("give either --in and --out, or --from-topic and --to-topic", file=sys.stderr)
        return 2
    settings = settings_from(args)
    keyring = open_keyring(settings)
    try:
        rekeyer = Rekeyer(load_topology(args.topology), keyring)
        if files:
            summary = RekeySummary()
            with (
                open_input(args.input) as source, open_output(args.out) as out,
                progress("re-keying", total=file_size(args.input), unit="bytes") as bar,
            ):
                assert out is not None
                rekey_lines(rekeyer, tracked_lines(source, bar), out, summary, _report)
        else:
            from streamsec.kafka import connect

            with progress(f"re-keying {args.from_topic}") as bar:
                summary = asyncio.run(rekey_topic(
                    rekeyer, args.from_topic, args.to_topic, connect(settings, args.bootstrap),
                    report=_report, idle_timeout=args.timeout, on_record=bar.advance,
                ))
        text = json.dumps(summary.as_dict(), indent=2) if args.json else summary.render()
        print(text, file=sys.stderr)
        return 1 if summary.failed else 0
    finally:
        keyring.close()
