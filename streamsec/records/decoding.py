"""Decoding raw records with limits, so bad input is a clear error and never a crash."""

from __future__ import annotations

import json
from typing import Any

from streamsec.errors import DecodeError, RecordTooDeepError, RecordTooLargeError

__all__ = ["decode_record", "encode_record", "measure_depth"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def measure_depth(value: Any) -> int:
    """Nesting depth: a scalar is 0, ``{"a": 1}`` is 1."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            deepest = max(deepest, depth + 1)
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
            deepest = max(deepest, depth + 1)
    return deepest


def decode_record(data: bytes | str, *, max_bytes: int, max_depth: int) -> dict[str, Any]:
    """Parse one record. Raises a :class:`~streamsec.errors.RecordError` subclass.

    The messages name what is wrong (position, size, depth) but never quote the input.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise RecordTooLargeError(f"record is {len(raw)} bytes, over the limit of {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"record is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise RecordTooDeepError(f"record is nested deeper than {max_depth}") from None
    except json.JSONDecodeError as exc:
        raise DecodeError(
            f"record is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError:
        raise DecodeError("record is not valid JSON: NaN or Infinity") from None
    if not isinstance(value, dict):
        raise DecodeError(f"record must be a JSON object, got {type(value).__name__}")
    depth = measure_depth(value)
    if depth > max_depth:
        raise RecordTooDeepError(f"record is nested {depth} deep, over the limit of {max_depth}")
    return value


def encode_record(record: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
