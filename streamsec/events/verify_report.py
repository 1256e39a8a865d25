"""What :func:`streamsec.events.verify.verify` reports: per chain, its problems in seq order."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["ChainStatus", "Problem", "Reason", "VerifyReport"]


class Reason(StrEnum):
    EMPTY = "empty"
    MODIFIED = "modified"
    BAD_SIGNATURE = "bad_signature"
    INSERTED = "inserted"
    DELETED = "deleted"
    REORDERED = "reordered"
    REPLAYED = "replayed"
    TRUNCATED = "truncated"


@dataclass(frozen=True, slots=True)
class Problem:
    chain: str
    seq: int | None
    reason: Reason
    detail: str
    position: int | None = None
    """Index of the offending event in the input, when there is one."""

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "seq ?"
        at = f", input #{self.position}" if self.position is not None else ""
        return f"chain {self.chain} {where}: {self.reason} ({self.detail}{at})"


@dataclass(frozen=True, slots=True)
class ChainStatus:
    chain: str
    events: int
    last_seq: int | None
    closed: bool
    last_checkpoint: int | None
    """Seq of the last checkpoint whose signature verifies."""
    problems: tuple[Problem, ...]
    abandoned_at: int | None = None
    """Seq at which a successor closed the chain (its writer died), if so."""
    abandoned_by: str | None = None
    unsigned: int = 0
    """Events after the last signed checkpoint (attested by the successor only)."""
    duplicates: int = 0
    """Exact redeliveries of events already read (at-least-once), not counted in events."""
    signer: str | None = None
    stream: str | None = None
    """The writer's digest chain, as its signed checkpoints name it."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    chains: tuple[ChainStatus, ...]
    unreadable: tuple[int, ...] = field(default_factory=tuple)
    """Input positions that are not JSON objects."""
    trail: tuple[Problem, ...] = field(default_factory=tuple)
    """Problems of the trail as a whole (empty, digest chains broken)."""
    digests: int = 0
    """Signed digests that verify."""

    @property
    def ok(self) -> bool:
        return not self.unreadable and not self.trail and all(c.ok for c in self.chains)

    @property
    def abandoned(self) -> list[ChainStatus]:
        return [c for c in self.chains if c.abandoned_at is not None]

    @property
    def duplicates(self) -> int:
        return sum(c.duplicates for c in self.chains)

    @property
    def first_problems(self) -> list[Problem]:
        return [*self.trail, *(c.first for c in self.chains if c.first is not None)]
