"""``streamsec`` command line. Each sub-command lives in its own module under
``streamsec/cli/`` and exposes ``register(subparsers)``; it sets ``func`` to a
callable taking the parsed namespace and returning an exit code.

Edges handled here for every command: ``--version``; a bad option or option value
answered with one line and exit 2; a :class:`StreamsecError` as one line and exit 2;
a closed stdout (``streamsec ... | head``) ends quietly with exit 141 (128 + SIGPIPE,
what a shell reports for a command its pipe stopped); Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import streamsec.keystore  # noqa: F401 (registers the kafka key store; no Kafka client yet)
from streamsec.errors import StreamsecError

__all__ = ["EXIT_BROKEN_PIPE", "main"]

EXIT_BROKEN_PIPE = 141
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# modules are imported lazily so `streamsec --help` stays fast.
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
    "streamsec.cli.acls_cmd",
)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("streamsec")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "unknown"


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"invalid log level {value!r} (choose from {', '.join(LOG_LEVELS)})"
        )
    return level


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="streamsec",
        description="Detect, classify and protect personal data in Kafka streams.",
    )
    parser.add_argument("--version", action="version", version=f"streamsec {_version()}")
    parser.add_argument(
        "--log-level", default="WARNING", type=_log_level, metavar="LEVEL",
        help=", ".join(LOG_LEVELS) + " (default WARNING)",
    )
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


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except StreamsecError as exc:
        print(f"streamsec: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
