"""The type-tagged plaintext inside an envelope, so decryption restores the exact JSON value.

One tag byte, then the payload:

* ``s`` (0x73): a JSON string, as UTF-8 bytes.
* ``j`` (0x6A): any other JSON value (number, boolean, null, object, array), or a
  string that is not valid Unicode (lone surrogates), as compact JSON text:
  ``json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``,
  UTF-8 encoded (``ensure_ascii=True`` when the value holds lone surrogates).
  A number written with ``.`` or an exponent is a float (``3.0``), one without is
  an integer (``3``). Object member order is preserved.

Envelope version 2 pads the tagged plaintext before encryption (:func:`pad`): one
``0x80`` byte, then ``0x00`` bytes up to the next multiple of the bucket size, so
values whose tagged form fits one bucket (``true``/``false``, short enums, small
numbers) give ciphertexts of equal length.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

from streamsec.records.paths import JsonValue

__all__ = [
    "DEFAULT_PAD",
    "MAX_PAD",
    "TAG_JSON",
    "TAG_STRING",
    "decode_value",
    "encode_value",
    "pad",
    "unpad",
]

TAG_STRING: Final = b"s"
TAG_JSON: Final = b"j"
DEFAULT_PAD: Final = 32
"""Default bucket size in bytes (topology ``encryption.pad_to``)."""
MAX_PAD: Final = 4096


def pad(data: bytes, bucket: int) -> bytes:
    """``data || 0x80 || 0x00*``, a multiple of ``bucket`` bytes long (ISO/IEC 7816-4)."""
    if not 1 <= bucket <= MAX_PAD:
        raise ValueError(f"the padding bucket must be 1 to {MAX_PAD} bytes")
    fill = -(len(data) + 1) % bucket
    return data + b"\x80" + bytes(fill)


def unpad(data: bytes) -> bytes:
    """Inverse of :func:`pad`; raises ``ValueError`` when the padding is malformed."""
    body = data.rstrip(b"\x00")
    if not body or body[-1] != 0x80:
        raise ValueError("malformed plaintext padding")
    return body[:-1]


def _reject_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _json_text(value: JsonValue, *, ascii_only: bool) -> bytes:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only, allow_nan=False)
    return text.encode("utf-8")


_CONSTANTS: Final[dict[object, bytes]] = {True: b"true", False: b"false", None: b"null"}


def encode_value(value: JsonValue) -> bytes:
    """Tag and serialise a JSON value; raises ``ValueError`` for what JSON cannot hold."""
    if isinstance(value, str):
        try:
            return TAG_STRING + value.encode("utf-8")
        except UnicodeEncodeError:
            return TAG_JSON + _json_text(value, ascii_only=True)
    kind = type(value)
    if kind is int:  # json.dumps writes int.__repr__ and float.__repr__: the same bytes
        return TAG_JSON + int.__repr__(value).encode("ascii")
    if kind is float and math.isfinite(value):
        return TAG_JSON + float.__repr__(value).encode("ascii")
    if kind is bool or value is None:
        return TAG_JSON + _CONSTANTS[value]
    try:
        try:
            return TAG_JSON + _json_text(value, ascii_only=False)
        except UnicodeEncodeError:
            return TAG_JSON + _json_text(value, ascii_only=True)
    except (TypeError, ValueError, RecursionError):
        raise ValueError(f"a {type(value).__name__} is not a JSON value") from None


def decode_value(data: bytes) -> JsonValue:
    """Inverse of :func:`encode_value`; raises ``ValueError`` when malformed."""
    tag, payload = data[:1], data[1:]
    try:
        if tag == TAG_STRING:
            return payload.decode("utf-8")
        if tag == TAG_JSON:
            return json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError, JSONDecodeError, NaN
        raise ValueError("malformed plaintext") from None
    raise ValueError("unknown plaintext type tag")
