"""``streamsec decrypt``: restore encrypted values in a protected JSON Lines file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from streamsec.cli.io import add_settings_args, json_line, open_input, open_output, settings_from
from streamsec.errors import StreamsecError

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser("decrypt", help="decrypt protected JSON Lines (authorised users only)")
    p.add_argument("--topology", "-t", required=True)
    p.add_argument("--in", dest="input", default="-")
    p.add_argument("--out", default="-")
    add_settings_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from streamsec.decryption.decryptor import Decryptor

    decryptor = Decryptor.from_topology(args.topology, settings=settings_from(args))
    failures = 0
    with open_input(args.input) as source, open_output(args.out) as out:
        assert out is not None
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                out.write(json_line(decryptor.decrypt(record)))
            except StreamsecError as exc:
                failures += 1
                print(f"line {number}: {exc}", file=sys.stderr)
            except ValueError:
                failures += 1
                print(f"line {number}: not a JSON object", file=sys.stderr)
    if failures:
        print(f"{failures} line(s) could not be decrypted", file=sys.stderr)
        return 1
    return 0
