"""Which record, subject and list position each ciphertext of a record is bound to.

The version-2 associated data (:class:`~streamsec.crypto.aad.Binding`) carries three
references that a reader recomputes from the *protected* record it finds a
ciphertext in, so a ciphertext moved elsewhere fails to decrypt:

* **subject**: the value of the topology's ``subject:`` field as it stands in the
  protected record (the id when kept, its pseudonym when hashed, its envelope when
  encrypted), as text: a string as is, any other scalar as compact JSON. The first
  location of the path holding a non-null scalar counts. ``""`` when the record has
  no subject (shared key).
* **record**: the same for the field named by ``encryption.record_id``, or ``""``.
* **position**: the value's concrete location with list indices
  (``orders[1].card.number``) when ``encryption.lists`` is ``position`` (the
  default: list items cannot be swapped); ``""`` when it is ``record`` (items may be
  reordered, but stay bound to their record and subject).

The subject field itself is bound to no subject and no record, and the record-id
field to the subject only, so a reader can read both before the rest. The record
key (``$key``) is protected from the key alone (:mod:`streamsec.protection.record_key`,
so a tombstone gets its record's protected key) and bound to nothing more.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from streamsec.crypto.aad import Binding
from streamsec.frozen import quick_init
from streamsec.records.paths import JsonValue, Location, expand, format_path, get_at, parse_path
from streamsec.topology.model import Topology

__all__ = ["RecordBinder", "RecordBindings", "position_of", "reference"]


def reference(value: JsonValue) -> str | None:
    """The binding text of a scalar value, ``None`` for null, objects and lists."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


@functools.lru_cache(maxsize=8192)
def position_of(location: Location) -> str:
    """The concrete location: the schema path with each ``[*]`` written as its index,
    ``orders[1].card.number``."""
    parts: list[str] = []
    for segment in location:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            text = format_path((segment,))
            parts.append(text if not parts or text.startswith("[") else f".{text}")
    return "".join(parts)


@quick_init
@dataclass(frozen=True, slots=True)
class RecordBindings:
    """The references of one record, and the binding of each location in it."""

    subject: str
    record: str
    subject_at: Location | None
    record_at: Location | None
    positional: bool

    def at(self, location: Location) -> Binding:
        position = position_of(location) if self.positional else ""
        if location == self.subject_at:
            return Binding("", "", position)
        if location == self.record_at:
            return Binding(self.subject, "", position)
        return Binding(self.subject, self.record, position)


class RecordBinder:
    """Finds the references of records of one topology (pure)."""

    def __init__(self, topology: Topology) -> None:
        self._subject = parse_path(topology.subject) if topology.subject else None
        record_id = topology.encryption.record_id
        self._record = parse_path(record_id) if record_id else None
        self.positional = topology.encryption.lists == "position"
        self.binds = self._subject is not None or self._record is not None
        """Whether records are bound to a subject or record-id field (else every
        record's references are empty)."""

    def locate(
        self, record: dict[str, Any], which: str
    ) -> tuple[Location | None, str]:
        """(location, reference) of the ``subject`` or ``record`` field, or (None, "")."""
        pattern = self._subject if which == "subject" else self._record
        if pattern is None:
            return None, ""
        for location in expand(record, pattern):
            ref = reference(get_at(record, location))
            if ref is not None:
                return location, ref
        return None, ""

    def of(self, record: dict[str, Any]) -> RecordBindings:
        """The bindings of a protected record, as a reader recomputes them."""
        subject_at, subject = self.locate(record, "subject")
        record_at, ref = self.locate(record, "record")
        return RecordBindings(subject, ref, subject_at, record_at, self.positional)

