"""Key-registry entries on the wire: authenticated bytes in, key records out.

A registry process reads every entry at start-up (a million of them at scale), so
this is the hot path and kept lean:

* :func:`open_entry` checks the entry's HMAC over the very bytes it then parses.
  Writers serialise canonically (sorted keys, no spaces, ASCII), so a key entry is
  ``{"mac":"<64 hex>",<body>}`` and its MAC covers ``{<body>}``: no second
  serialisation to check it. Anything else (the header, whose ``mac`` is not its
  first member) is parsed and checked the general way
  (:func:`~streamsec.crypto.integrity.entry_mac`).
* :func:`key_record` builds a :class:`~streamsec.crypto.keyfile.KeyRecord` without
  pydantic's per-field validation (the MAC proved a KEK holder wrote it with this
  code), sharing its repeated strings and timestamps.
"""

from __future__ import annotations

import hmac
import sys
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from streamsec.crypto.integrity import entry_mac, entry_mac_of
from streamsec.crypto.keyfile import KeyRecord, WrappedCopy
from streamsec.crypto.keys import KeyPurpose, KeyState

__all__ = ["key_record", "open_entry"]

_HEAD = b'{"mac":"'
_BODY = len(_HEAD) + 64 + 2  # '{"mac":"' + 64 hex + '",'
_FIELDS_SET = set(KeyRecord.model_fields)
_FIELD_NAMES = frozenset(KeyRecord.model_fields)
_DEFAULTS = {"subject": None, "destroyed": None, "wrapped": None, "kek": "default",
             "kek_version": "static", "readers": None, "copies": None}  # fmt: skip
_PURPOSES = {str(p): p for p in KeyPurpose}
_STATES = {str(s): s for s in KeyState}


def _loads(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def open_entry(mac_key: bytes, raw: bytes) -> dict[str, Any] | None:
    """The entry (without its ``mac``) when its MAC checks under ``mac_key``; else ``None``."""
    if raw.startswith(_HEAD) and raw[_BODY - 2 : _BODY] == b'",':
        body = b"{" + raw[_BODY:]
        try:
            mac = bytes.fromhex(raw[len(_HEAD) : _BODY - 2].decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            return None
        if not hmac.compare_digest(mac, entry_mac_of(mac_key, body)):
            return None
        entry = _loads(body)
        return entry if isinstance(entry, dict) else None
    entry = _loads(raw)
    if not isinstance(entry, dict):
        return None
    given = entry.pop("mac", None)
    if not isinstance(given, str) or not hmac.compare_digest(given, entry_mac(mac_key, entry)):
        return None
    return entry


@lru_cache(maxsize=4096)
def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def key_record(data: dict[str, Any]) -> KeyRecord:
    """A key entry's record, made from (and reusing) the parsed ``data``; ``ValueError``,
    ``KeyError`` or ``TypeError`` when it is not one."""
    if data.keys() != _FIELD_NAMES:  # entries written before a field had a default
        for name, default in _DEFAULTS.items():
            data.setdefault(name, default)
        if data.keys() != _FIELD_NAMES:
            raise ValueError("a key entry names exactly the fields of a key record")
    state = data["state"] = _STATES[data["state"]]
    if (state is KeyState.DESTROYED) != (data["wrapped"] is None):
        raise ValueError("a key has wrapped material exactly when it is not destroyed")
    data["purpose"] = _PURPOSES[data["purpose"]]
    data["owner"] = sys.intern(data["owner"])
    data["kek"] = sys.intern(data["kek"])
    data["kek_version"] = sys.intern(data["kek_version"])
    data["created"] = _when(data["created"])
    if data["destroyed"] is not None:
        data["destroyed"] = _when(data["destroyed"])
    if type(data["version"]) is not int:
        raise TypeError("a key version is a number")
    if data["readers"] is not None or data["copies"] is not None:
        data["readers"], data["copies"] = _roles(data["readers"], data["copies"], state)
    record = KeyRecord.__new__(KeyRecord)
    object.__setattr__(record, "__dict__", data)
    object.__setattr__(record, "__pydantic_fields_set__", _FIELDS_SET)
    object.__setattr__(record, "__pydantic_extra__", None)
    object.__setattr__(record, "__pydantic_private__", None)
    return record


def _roles(
    readers: Any, copies: Any, state: KeyState
) -> tuple[tuple[str, ...] | None, dict[str, WrappedCopy] | None]:
    """A role-separated key's readers and wrapped copies (format 2)."""
    names = None if readers is None else tuple(str(r) for r in readers)
    held = {str(n): WrappedCopy.model_validate(c) for n, c in copies.items()} if copies else None
    if held and (names is None or state is KeyState.DESTROYED):
        raise ValueError("only a live role-separated key has wrapped copies")
    return names, held
