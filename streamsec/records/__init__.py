"""JSON records: decoding with limits, and addressing values by path."""

from streamsec.records.decoding import decode_record, encode_record
from streamsec.records.paths import (
    ANY_INDEX,
    JsonValue,
    Location,
    delete_at,
    format_path,
    get_at,
    iter_leaves,
    matches,
    parse_path,
    set_at,
)

__all__ = [
    "ANY_INDEX",
    "JsonValue",
    "Location",
    "decode_record",
    "delete_at",
    "encode_record",
    "format_path",
    "get_at",
    "iter_leaves",
    "matches",
    "parse_path",
    "set_at",
]
