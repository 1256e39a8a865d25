"""Addressing values inside a JSON record.

A *location* is the concrete address of one value: a tuple of object keys and
list indices, e.g. ``("orders", 2, "card", "number")``.

A *path* is its schema form, the one topologies, caches, audit events and the
ciphertext's associated data use: list indices become ``[*]``, so every item of a
list shares one path: ``orders[*].card.number``. A key that contains ``.``, ``[``,
``]`` or ``"`` (or is empty) is written as a JSON string in brackets:
``meta["x.y"]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final, TypeAlias

__all__ = [
    "ANY_INDEX",
    "JsonValue",
    "Location",
    "delete_at",
    "expand",
    "format_path",
    "get_at",
    "iter_leaves",
    "matches",
    "parse_path",
    "set_at",
]

JsonValue: TypeAlias = Any
Location: TypeAlias = tuple[str | int, ...]


class _AnyIndex:
    __slots__ = ()

    def __repr__(self) -> str:
        return "[*]"


ANY_INDEX: Final = _AnyIndex()
Segment: TypeAlias = str | _AnyIndex

_PLAIN_KEY = re.compile(r"[^.\[\]\"]+")
_TOKEN = re.compile(r'\.?([^.\[\]"]+)|\[\*\]|\[("(?:[^"\\]|\\.)*")\]')


def _format_key(key: str, first: bool) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return key if first else f".{key}"
    return f"[{json.dumps(key, ensure_ascii=False)}]"


def format_path(location: Location) -> str:
    """The schema path of a location: list indices become ``[*]``."""
    parts: list[str] = []
    for segment in location:
        if isinstance(segment, int):
            parts.append("[*]")
        else:
            parts.append(_format_key(segment, not parts))
    return "".join(parts)


def parse_path(path: str) -> tuple[Segment, ...]:
    """Parse a schema path; raises ``ValueError`` (with the path) when malformed."""
    segments: list[Segment] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None or (match.group(1) is not None and pos > 0 and path[pos] != "."):
            raise ValueError(f"malformed path {path!r} at character {pos}")
        if match.group(1) is not None:
            if pos == 0 and path.startswith("."):
                raise ValueError(f"malformed path {path!r}: leading dot")
            segments.append(match.group(1))
        elif match.group(2) is not None:
            segments.append(json.loads(match.group(2)))
        else:
            segments.append(ANY_INDEX)
        pos = match.end()
    if not segments:
        raise ValueError("empty path")
    return tuple(segments)


def matches(pattern: tuple[Segment, ...], location: Location) -> bool:
    """True when ``location`` is the value ``pattern`` names, or lies inside it."""
    if len(pattern) > len(location):
        return False
    for want, have in zip(pattern, location, strict=False):
        if want is ANY_INDEX:
            if not isinstance(have, int):
                return False
        elif want != have:
            return False
    return True


def iter_leaves(value: JsonValue, prefix: Location = ()) -> Iterator[tuple[Location, JsonValue]]:
    """Every scalar leaf (str, int, float, bool) with its location; ``null`` is skipped."""
    stack: list[tuple[Location, JsonValue]] = [(prefix, value)]
    while stack:
        location, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((location + (k,), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((location + (i,), v) for i, v in reversed(list(enumerate(node))))
        elif node is not None:
            yield location, node


def get_at(document: JsonValue, location: Location) -> JsonValue:
    node = document
    for segment in location:
        node = node[segment]
    return node


def set_at(document: JsonValue, location: Location, value: JsonValue) -> None:
    if not location:
        raise ValueError("cannot replace the record root")
    get_at(document, location[:-1])[location[-1]] = value


def delete_at(document: JsonValue, location: Location) -> None:
    """Remove a value. A list item is replaced by ``null`` so sibling indices stay valid."""
    parent = get_at(document, location[:-1])
    last = location[-1]
    if isinstance(parent, list) and isinstance(last, int):
        parent[last] = None
    else:
        del parent[last]


def expand(record: JsonValue, pattern: tuple[Segment, ...]) -> list[Location]:
    """Concrete locations of ``pattern`` (a parsed schema path) that exist in ``record``,
    in document order."""
    found: list[Location] = [()]
    for segment in pattern:
        step: list[Location] = []
        for location in found:
            node = get_at(record, location)
            if isinstance(segment, str):
                if isinstance(node, dict) and segment in node:
                    step.append((*location, segment))
            elif isinstance(node, list):
                step.extend((*location, i) for i in range(len(node)))
        found = step
    return found
