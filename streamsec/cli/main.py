"""``streamsec`` command line. Each sub-command lives in its own module under
``streamsec/cli/`` and exposes ``register(subparsers)``; it sets ``func`` to a
callable taking the parsed namespace and returning an exit code."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from streamsec.errors import StreamsecError

__all__ = ["main"]

# (module, required extra): modules are imported lazily so `streamsec --help` stays fast.
COMMAND_MODULES = (
    "streamsec.cli.protect_cmd",
    "streamsec.cli.decrypt_cmd",
    "streamsec.cli.topology_cmd",
    "streamsec.cli.keys_cmd",
    "streamsec.cli.broker_cmd",
    "streamsec.cli.worker_cmd",
    "streamsec.cli.demo_cmd",
    "streamsec.cli.audit_cmd",
    "streamsec.cli.consume_cmd",
    "streamsec.cli.rekey_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamsec",
        description="Detect, classify and protect personal data in Kafka streams.",
    )
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # command not built into this version
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        code: int = args.func(args)
    except StreamsecError as exc:
        print(f"streamsec: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
