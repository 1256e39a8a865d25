from __future__ import annotations

import json
import random

import pytest

from streamsec.errors import (
    DecodeError,
    RecordTooDeepError,
    RecordTooLargeError,
    TooManyFieldsError,
)
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


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a": NaN}', "bad_number"),
        (b'{"a": -Infinity}', "bad_number"),
        (b'{"a": 1e400}', "bad_number"),
        (b'{"a": ' + b"7" * 1_001 + b"}", "bad_number"),
        (b'{"a": "' + SECRET.encode() + b'", "a": "x"}', "duplicate_key"),
        (b'{"b": {"a": 1, "a": 1}}', "duplicate_key"),
        (b'{"a": "\\ud800 ' + SECRET.encode() + b'"}', "bad_unicode"),
        (b'{"\\udfff": 1}', "bad_unicode"),
        (b'[{"a": 1}]', "decode"),
        (b"12", "decode"),
    ],
)
def test_reason_codes_name_what_is_wrong(raw: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_record(raw, max_bytes=10_000, max_depth=5)
    assert info.value.reason == reason
    assert SECRET not in str(info.value)


def test_a_byte_order_mark_is_accepted() -> None:
    assert decode_record(b'\xef\xbb\xbf{"a": 1}', **LIMITS) == {"a": 1}


def test_valid_surrogate_pairs_and_big_numbers_pass() -> None:
    record = decode_record(
        b'{"e": "\\ud83d\\ude00", "n": 1e300, "i": ' + b"9" * 1000 + b"}",
        max_bytes=10_000,
        max_depth=5,
    )
    assert record["e"] == "\U0001f600" and record["n"] == 1e300


def test_field_and_text_limits() -> None:
    many = b"{" + b",".join(b'"k%d": %d' % (i, i) for i in range(50)) + b"}"
    with pytest.raises(TooManyFieldsError) as info:
        decode_record(many, max_bytes=10_000, max_depth=5, max_fields=49)
    assert info.value.reason == "too_many_fields"
    assert decode_record(many, max_bytes=10_000, max_depth=5, max_fields=50)
    with pytest.raises(TooManyFieldsError):
        decode_record(
            b'{"a": [' + b",".join([b"1"] * 100) + b"]}",
            max_bytes=10_000,
            max_depth=5,
            max_fields=50,
        )
    with pytest.raises(RecordTooLargeError) as large:
        decode_record(b'{"a": "' + b"x" * 500 + b'"}', max_bytes=10_000, max_depth=5, max_chars=100)
    assert large.value.reason == "too_large"


def test_output_is_never_non_finite_json() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        encode_record({"a": float("inf")})
    for hidden in ({"a": [1, {"b": float("nan")}]}, {"a": None, "b": -float("inf")}):
        with pytest.raises(ValueError, match="not JSON compliant"):
            encode_record(hidden)  # orjson alone would write null


def _json_bytes(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize(
    "record",
    [
        {"name": "Zoë Ñúñez", "tags": ["a", "b"], "n": 1, "x": 0.062, "ok": True, "none": None},
        {"nested": {"deep": [{"k": "v"}, [], {}]}, "emoji": "\U0001f600", "nul": "a\u0000b"},
        {"big": 2**70, "small": -(2**70), "edge": 2**63, "neg": -(2**63)},
        {"text": "null", "quote": 'say "hi"\n', "slash": "a/b\\c"},
    ],
)
def test_encoding_matches_json_dumps_byte_for_byte(record: dict[str, object]) -> None:
    assert encode_record(record) == _json_bytes(record)


def test_encoding_round_trips_every_number() -> None:
    rnd = random.Random(7)
    numbers: list[object] = [1e-07, 2.5e-05, 1e16, 5e-324, 1.7976931348623157e308, -0.0]
    numbers += [rnd.uniform(-1e6, 1e6) for _ in range(200)]
    numbers += [rnd.randint(-(2**80), 2**80) for _ in range(200)]
    record = {"values": numbers}
    assert json.loads(encode_record(record)) == record


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode_record({"a": "\ud800"})


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": [1, {"b": [2.5, -1e400]}]}',
        b'{"a": {"b": 1E+999}, "c": "1e400"}',
        b'{"s": "' + b"7" * 1_001 + b'", "a": 1e400}',
        b'{"a": [' + b"1" * 1_001 + b".5]}",
        b'{"a": {"b": -' + b"4" * 1_001 + b"}}",
    ],
)
def test_numbers_out_of_range_anywhere_are_bad_numbers(raw: bytes) -> None:
    """Most records are parsed without a check per number (none holds a run of more
    than MAX_INT_DIGITS digits); an infinite float is then found in the decoded record."""
    with pytest.raises(DecodeError) as info:
        decode_record(raw, max_bytes=10_000, max_depth=5)
    assert info.value.reason == "bad_number"


def test_a_long_digit_run_in_text_is_still_text() -> None:
    record = decode_record(
        b'{"s": "' + b"7" * 1_001 + b'", "n": [1.5, ' + b"9" * 1_000 + b"]}",
        max_bytes=10_000, max_depth=5,
    )
    assert record["s"] == "7" * 1_001 and record["n"] == [1.5, int("9" * 1_000)]


def test_measure_counts_depth_values_and_text() -> None:
    from streamsec.records.decoding import RecordSize, measure

    assert measure({}) == RecordSize(1, 0, 0)
    assert measure("abc") == RecordSize(0, 0, 3)
    assert measure({"ab": [1, "xyz", {"c": None, "d": [True, 2.5]}], "e": []}) == RecordSize(
        4, 2 + 3 + 2 + 2, 2 + 3 + 1 + 1 + 1
    )
