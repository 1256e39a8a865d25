"""leaf_types: the record's shape, path -> JSON type, as the general path code gives it."""

from __future__ import annotations

import random
from typing import Any

from streamsec.events.lineage_shape import json_type, leaf_types
from streamsec.records.paths import format_path, iter_leaves

KEYS = ["a", "b", "card", "x.y", "", 'q"uote', "[i]", "é", "n 1"]


def _reference(record: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for location, value in iter_leaves(record):
        path, kind = format_path(location), json_type(value)
        previous = out.get(path)
        out[path] = kind if previous in (None, kind) else "|".join(sorted({previous, kind}))
    return out


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        return rng.choice(["s", 1, 2.5, True, None, ""])
    if roll < 0.75:
        return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_leaf_types_agrees_with_the_path_code_on_random_records() -> None:
    rng = random.Random(14)
    for _ in range(2000):
        record = {rng.choice(KEYS): _value(rng, 0) for _ in range(rng.randint(1, 5))}
        assert leaf_types(record) == _reference(record), record


def test_mixed_types_in_a_list_and_a_deep_record() -> None:
    record = {"items": [1, "x", {"a": True}, [2.5, None]], "m": {"x.y": {"": 1}}}
    assert leaf_types(record) == {
        "items[*]": "integer|string",
        "items[*].a": "boolean",
        "items[*][*]": "number",
        'm["x.y"][""]': "integer",
    }
    deep: Any = "leaf"
    for _ in range(300):
        deep = {"d": deep}
    assert leaf_types(deep) == {".".join(["d"] * 300): "string"}
