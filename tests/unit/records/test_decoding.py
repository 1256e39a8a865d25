from __future__ import annotations

import pytest

from streamsec.errors import DecodeError, RecordTooDeepError, RecordTooLargeError
from streamsec.records.decoding import decode_record, encode_record, measure_depth

LIMITS = {"max_bytes": 1000, "max_depth": 5}
SECRET = "123-45-6789"


def test_decodes_an_object() -> None:
    assert decode_record(b'{"a": [1, {"b": "c"}]}', **LIMITS) == {"a": [1, {"b": "c"}]}


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"not json " + SECRET.encode(), DecodeError),
        (b'["' + SECRET.encode() + b'"]', DecodeError),
        (b'"' + SECRET.encode() + b'"', DecodeError),
        (b"\xff\xfe" + SECRET.encode(), DecodeError),
        (b'{"a": NaN}', DecodeError),
        (b'{"a": "' + b"x" * 2000 + b'"}', RecordTooLargeError),
        (b'{"a":' * 6 + b"1" + b"}" * 6, RecordTooDeepError),
        (b"[" * 100_000 + b"]" * 100_000, RecordTooLargeError),
    ],
)
def test_bad_input_is_a_clear_error_without_the_value(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        decode_record(raw, **LIMITS)
    assert SECRET not in str(info.value)


def test_recursion_bomb_within_size_limit_is_too_deep() -> None:
    raw = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(RecordTooDeepError):
        decode_record(raw, max_bytes=10_000_000, max_depth=32)


def test_depth_and_encoding() -> None:
    assert measure_depth({"a": {"b": [1]}}) == 3
    assert encode_record({"é": 1}) == '{"é":1}'.encode()
