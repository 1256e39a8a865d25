"""Small helpers shared by the file-based commands."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["add_settings_args", "json_line", "open_input", "open_output", "settings_from"]


@contextlib.contextmanager
def open_input(path: str | None) -> Iterator[IO[bytes]]:
    if path in (None, "-"):
        yield sys.stdin.buffer
        return
    with Path(str(path)).open("rb") as handle:
        yield handle


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[IO[str] | None]:
    """Yields a text handle, stdout for ``-``; ``None`` when no path was given."""
    if path is None:
        yield None
    elif path == "-":
        yield sys.stdout
    else:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8") as handle:
            yield handle


def json_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def add_settings_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keyring", help="keyring file (default: $STREAMSEC_KEYRING)")


def settings_from(args: argparse.Namespace) -> Any:
    from streamsec.settings import load_settings

    return load_settings(keyring=getattr(args, "keyring", None))
