"""Helpers shared by the text-producing actions (mask, redact, hash)."""

from __future__ import annotations

import json

from streamsec.errors import ProtectionError
from streamsec.records.paths import JsonValue

__all__ = ["value_text"]


def value_text(value: JsonValue, *, path: str) -> str:
    """A string as it is; any other JSON value as its compact JSON text."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise ProtectionError(f"a {type(value).__name__} is not a JSON value", path=path) from None
