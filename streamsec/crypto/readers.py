"""Key separation by role: one data key per *reader set*, wrapped once per reader.

Under ``key_separation: role`` a field's data key belongs to the set of roles the
topology grants that field (its *reader set*, decided by the worker from its own
classification at protect time, :class:`streamsec.topology.roles.ReaderSets`).
Like the recipients of envelope encryption, the key is wrapped

* under the KEK ``role-<role>`` of every reader (``KeyRecord.copies``), so each
  reader unwraps it with its own KEK and no other role's KEK releases it;
* and under the KEK ``all`` (``KeyRecord.wrapped``), held by the workers (which
  must open their current keys after a restart) and by whoever decrypts ``--as all``.

Inside the keyring a slot's KEK label names the reader set: ``readers:fraud,support``
(``readers:`` alone when no role may read the field). :func:`parse_label` turns it
back into the primary KEK and the readers; any other label is a plain KEK name
(``default``, or a category under ``key_separation: category``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = [
    "ALL_KEK",
    "READERS",
    "ROLE_KEK_PREFIX",
    "parse_label",
    "provider_keks",
    "reader_label",
    "role_kek",
]

ALL_KEK: Final = "all"
"""The KEK that wraps every role-separated data key (workers, ``--as all``)."""
ROLE_KEK_PREFIX: Final = "role-"
READERS: Final = "readers:"


def role_kek(role: str) -> str:
    """The KEK name of one role: ``role-<role>`` (never a category's or ``default``)."""
    return ROLE_KEK_PREFIX + role


def reader_label(readers: Iterable[str]) -> str:
    """The KEK label of a reader set (order and repeats do not matter)."""
    return READERS + ",".join(sorted(set(readers)))


def parse_label(label: str) -> tuple[str, tuple[str, ...] | None]:
    """``(primary KEK name, readers or None)`` of a slot's KEK label."""
    if not label.startswith(READERS):
        return label, None
    rest = label[len(READERS):]
    return ALL_KEK, tuple(sorted(set(rest.split(",")))) if rest else ()


def provider_keks(label: str) -> set[str]:
    """Every provider KEK name a key of this label is wrapped under."""
    primary, readers = parse_label(label)
    return {primary, *(role_kek(r) for r in readers or ())}
