"""What protecting one record produced. Audit and lineage events are built from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from streamsec.classification.model import RecordClassification
from streamsec.errors import StreamsecError
from streamsec.frozen import quick_init

__all__ = ["FieldAction", "ProtectionFailure", "ProtectionResult"]


@dataclass(frozen=True, slots=True)
class FieldAction:
    """One protection decision, safe to audit: it never holds the value."""

    path: str
    action: str
    mode: Literal["field", "inline"]
    entity_types: tuple[str, ...]
    category: str | None
    sensitivity: str | None
    source: Literal["rule", "policy"]
    key_id: str | None = None
    score: float | None = None
    spans: int = 1
    """Entities protected in place (inline mode), or 1 for a whole value."""


@quick_init
@dataclass(frozen=True, slots=True)
class ProtectionResult:
    record: dict[str, Any]
    actions: tuple[FieldAction, ...]
    classification: RecordClassification = field(default_factory=RecordClassification)
    shape: int | None = None
    """The number of the compiled shape the input record was read as (see
    :mod:`streamsec.protection.compiled`): records with the same number have the same
    keys, list lengths and leaf types, so anything derived from the shape alone (the
    lineage leaf types) can be derived once per number. None: no compiled shape."""

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted({a.key_id for a in self.actions if a.key_id}))


@dataclass(frozen=True, slots=True)
class ProtectionFailure:
    """A record that could not be protected; it goes to the dead letter, never to output."""

    error: StreamsecError

    def __post_init__(self) -> None:
        self.error.detached()  # kept past its except block: no frames, no cycle

    @property
    def reason(self) -> str:
        return self.error.reason
