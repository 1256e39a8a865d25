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

from streamsec.crypto.integrity import ENTRY_MAC_LABEL, entry_mac
from streamsec.crypto.keyfile import KeyRecord, WrappedCopy
from streamsec.crypto.keys import KeyPurpose, KeyState

__all__ = ["key_record", "open_entry"]

_HEAD = b'{"mac":"'
_BODY = len(_HEAD) + 64 + 2  # '{"mac":"' + 64 hex + '",'
_SIGNED = ENTRY_MAC_LABEL + b"{"
_FIELDS_SET = set(KeyRecord.model_fields)
_FIELD_NAMES = frozenset(KeyRecord.model_fields)
_REQUIRED = frozenset({"id", "purpose", "owner", "version", "state", "created"})
_PURPOSES = {str(p): p for p in KeyPurpose}
_STATES = {str(s): s for s in KeyState}


def _loads(data: bytes | memoryview) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def open_entry(mac_key: bytes, raw: bytes) -> dict[str, Any] | None:
    """The entry (without its ``mac``) when its MAC checks under ``mac_key``; else ``None``."""
    if raw.startswith(_HEAD) and raw[_BODY - 2 : _BODY] == b'",':
        signed = _SIGNED + raw[_BODY:]  # what the MAC covers: the label, then '{' + body
        mac = hmac.digest(mac_key, signed, "sha256").hex().encode()
        if not hmac.compare_digest(mac, raw[len(_HEAD) : _BODY - 2]):
            return None
        entry = _loads(memoryview(signed)[len(ENTRY_MAC_LABEL) :])
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
    """A key entry's record; ``ValueError``, ``KeyError`` or ``TypeError`` when it is not
    one. Its fields go into a new dict: a parsed one has room to spare (632 bytes for
    the 11 items of a format-1 entry; the 13 fields built so: 464)."""
    if not _REQUIRED <= data.keys() <= _FIELD_NAMES:
        raise ValueError("a key entry names the fields of a key record, and only those")
    get = data.get
    state = _STATES[data["state"]]
    wrapped, destroyed, version = get("wrapped"), get("destroyed"), data["version"]
    if (state is KeyState.DESTROYED) != (wrapped is None):
        raise ValueError("a key has wrapped material exactly when it is not destroyed")
    if type(version) is not int:
        raise TypeError("a key version is a number")
    readers, copies = get("readers"), get("copies")
    if readers is not None or copies is not None:
        readers, copies = _roles(readers, copies, state)
    fields = {
        "id": data["id"], "purpose": _PURPOSES[data["purpose"]],
        "owner": sys.intern(data["owner"]), "subject": get("subject"), "version": version,
        "state": state, "created": _when(data["created"]),
        "destroyed": None if destroyed is None else _when(destroyed), "wrapped": wrapped,
        "kek": sys.intern(get("kek", "default")),
        "kek_version": sys.intern(get("kek_version", "static")),
        "readers": readers, "copies": copies,
    }  # fmt: skip
    record = KeyRecord.__new__(KeyRecord)
    object.__setattr__(record, "__dict__", fields)
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
