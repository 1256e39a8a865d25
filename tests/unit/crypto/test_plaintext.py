from __future__ import annotations

import math
from typing import Any

import pytest

from streamsec.crypto.plaintext import decode_value, encode_value

VALUES: list[Any] = [
    "",
    "jane@example.com",
    "日本語 ✓ emoji 🎉",
    "\ud800 lone surrogate",
    0,
    3,
    -17,
    2**80,
    3.0,
    -0.0,
    1.5e-300,
    True,
    False,
    None,
    [],
    {},
    [1, "2", 3.0, None, [True]],
    {"b": 1, "a": {"nested": [1.25, {"x": None}]}, "z": "é"},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_round_trip_keeps_value_and_type(value: Any) -> None:
    restored = decode_value(encode_value(value))
    assert restored == value
    assert type(restored) is type(value)
    assert repr(restored) == repr(value)  # catches -0.0 vs 0.0, key order, 3 vs 3.0


def test_tags() -> None:
    assert encode_value("x") == b"sx"
    assert encode_value(3) == b"j3"
    assert encode_value(3.0) == b"j3.0"
    assert encode_value({"a": [1, True]}) == b'j{"a":[1,true]}'


@pytest.mark.parametrize("value", [math.nan, math.inf, b"bytes", {1, 2}, object()])
def test_non_json_values_are_rejected(value: Any) -> None:
    with pytest.raises(ValueError, match="not a JSON value"):
        encode_value(value)


@pytest.mark.parametrize("data", [b"", b"x123", b"j{", b"s\xff", b"jNaN"])
def test_malformed_plaintext_is_rejected(data: bytes) -> None:
    with pytest.raises(ValueError, match="plaintext"):
        decode_value(data)
