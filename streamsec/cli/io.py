"""Small helpers shared by the file-based commands."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "add_settings_args", "json_line", "json_object", "open_input", "open_output", "settings_from",
]


@contextlib.contextmanager
def open_input(path: str | None) -> Iterator[IO[bytes]]:
    if path in (None, "-"):
        yield sys.stdin.buffer
        return
    with Path(str(path)).open("rb") as handle:
        yield handle


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[IO[str] | None]:
    """Yields a text handle, stdout for ``-``; ``None`` when no path was given.

    A file is created (or truncated) with mode 0600, whatever the umask, and an
    existing file is narrowed to 0600 before anything is written: decrypted output
    holds values in clear, and dead letters the original records."""
    if path is None:
        yield None
    elif path == "-":
        yield sys.stdout
    else:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle


def json_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def json_object(number: int, line: bytes | str) -> dict[str, Any] | None:
    """Line ``number`` as a JSON object, or ``None`` after one line on stderr saying it is
    not one (the line itself is never echoed: it may hold clear values)."""
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        print(f"line {number}: not a JSON object", file=sys.stderr)
        return None
    return record


def add_settings_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keyring", help="keyring file (default: $STREAMSEC_KEYRING)")


def settings_from(args: argparse.Namespace) -> Any:
    from streamsec.settings import load_settings

    return load_settings(keyring=getattr(args, "keyring", None))
