"""The canonical (RFC 8785) bytes of a protected record's batch entry, from memoised parts.

A worker lists every protected record of a batch as
:func:`~streamsec.events.audit.protected_entry` and keeps the entry's canonical
bytes (its digest and the batch event's wire bytes are made of them,
:class:`~streamsec.events.batch.BatchEntries`). Records of one shape repeat the
same field actions, so the canonical bytes of each action's entry
(:func:`~streamsec.events.audit.field_entry`) are memoised per action (a frozen,
hashable :class:`~streamsec.protection.result.FieldAction`; bounded LRU) and the
record's bytes are spliced from them:

    {"fields":[<entry of each action>],"key_ids":[...],"key_pseudonym":...,
     "offset":...,"outcome":"protected"}

which is the entry's canonical form (its members in RFC 8785 order, no whitespace).
The result is byte for byte ``canonical_json(protected_entry(record, actions))``
(tests check it over random and hostile entries), and anything unusual takes that
function itself.

Two actions that compare equal share their bytes only when they render alike:
only actions whose ``score`` is None or a float, ``spans`` an int and text members
strings are memoised, and the memo is keyed on those types too (``score`` ``1.0``,
``1`` and ``True`` compare equal but ``True`` renders as ``true``). An entry that cannot be put in
canonical form raises :class:`~streamsec.events.canonical.CanonicalizationError`
here as there, and is never memoised.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Final

from streamsec.events.audit import RecordRef, field_entry, protected_entry
from streamsec.events.canonical import CanonicalizationError, canonical_json
from streamsec.protection.result import FieldAction

__all__ = ["MEMO_SIZE", "protected_entry_bytes"]

MEMO_SIZE: Final = 1024
"""Field actions (and key-id lists) whose canonical bytes are kept, least recently used
out (at most a few hundred kB)."""

_MAX_SAFE: Final = 2**53 - 1
_OUTCOME: Final = b',"outcome":"protected"}'


class _Unkept(Exception):
    """Carries bytes that are right for this call but must not be memoised."""

    def __init__(self, raw: bytes) -> None:
        super().__init__()
        self.raw = raw


def _texts(action: FieldAction) -> bool:
    """Whether every text member of ``action`` is a string (or ``None`` where allowed)."""
    optional = (action.category, action.sensitivity, action.key_id)
    return (
        isinstance(action.path, str) and isinstance(action.action, str)
        and isinstance(action.mode, str) and isinstance(action.source, str)
        and all(o is None or isinstance(o, str) for o in optional)
        and type(action.entity_types) is tuple
        and all(isinstance(e, str) for e in action.entity_types)
    )  # fmt: skip


@functools.lru_cache(maxsize=MEMO_SIZE)
def _field_bytes(action: FieldAction, score_float: bool, spans_int: bool) -> bytes:
    """Canonical bytes of ``field_entry(action)``. The flags (whether ``score`` is a
    float and ``spans`` an int) are part of the key: an action is memoised only when
    its score is None or a float, its spans an int and its text members strings."""
    raw = canonical_json(field_entry(action))
    if not (spans_int and (score_float or action.score is None) and _texts(action)):
        raise _Unkept(raw)
    return raw


@functools.lru_cache(maxsize=MEMO_SIZE)
def _key_ids_bytes(key_ids: tuple[str, ...]) -> bytes:
    raw = canonical_json(list(key_ids))
    if not all(type(k) is str for k in key_ids):
        raise _Unkept(raw)
    return raw


_BY_ID: dict[int, tuple[FieldAction, dict[str, Any], bytes]] = {}
"""The same action object again (the applier shares them across a shape's records):
its entry and bytes without hashing it. The entry holds the object, so its id is not
reused while remembered; only actions the LRU keeps are remembered here."""


def _field(action: FieldAction) -> tuple[dict[str, Any], bytes]:
    """``field_entry(action)`` (a new dict each time) and its canonical bytes."""
    known = _BY_ID.get(id(action))
    if known is not None and known[0] is action:
        entry = known[1].copy()
        entry["entity_types"] = list(action.entity_types)
        return entry, known[2]
    entry = field_entry(action)
    try:
        raw = _field_bytes(action, type(action.score) is float, type(action.spans) is int)
    except _Unkept as unkept:
        return entry, unkept.raw
    except TypeError:  # unhashable (a list where a tuple belongs): not memoised
        return entry, canonical_json(entry)
    if len(_BY_ID) >= MEMO_SIZE:
        _BY_ID.clear()
    _BY_ID[id(action)] = (action, field_entry(action), raw)
    return entry, raw


def _string(value: Any) -> bytes | None:
    """Canonical bytes of a plain ASCII string that needs no escaping, else None."""
    if type(value) is str and value.isascii() and value.isprintable() \
            and '"' not in value and "\\" not in value:
        return b'"' + value.encode("ascii") + b'"'
    return None


def protected_entry_bytes(
    record: RecordRef, actions: Sequence[FieldAction]
) -> tuple[dict[str, Any], bytes]:
    """``protected_entry(record, actions)`` and its canonical bytes (raises
    CanonicalizationError when it has none)."""
    try:
        fields = [_field(a) for a in actions]
    except CanonicalizationError:
        protected_entry(record, actions)  # what the reference raises first, if not this
        raise
    key_ids = sorted({a.key_id for a in actions if a.key_id})
    offset, pseudonym = record.offset, record.key_pseudonym
    entry: dict[str, Any] = {
        "offset": offset,
        "key_pseudonym": pseudonym,
        "outcome": "protected",
        "fields": [f[0] for f in fields],
        "key_ids": key_ids,
    }  # protected_entry(record, actions), the field entries made once above
    named = b"null" if pseudonym is None else _string(pseudonym)
    if type(offset) is not int or not -_MAX_SAFE <= offset <= _MAX_SAFE or named is None:
        return entry, canonical_json(entry)
    try:
        listed = _key_ids_bytes(tuple(key_ids))
    except _Unkept as unkept:
        listed = unkept.raw
    raw = b"".join((
        b'{"fields":[', b",".join([f[1] for f in fields]), b'],"key_ids":', listed,
        b',"key_pseudonym":', named, b',"offset":', str(offset).encode("ascii"), _OUTCOME,
    ))  # fmt: skip
    return entry, raw
