"""What :func:`streamsec.events.verify.verify` reports: per chain, its problems in seq order."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["ChainStatus", "Problem", "Reason", "VerifyReport"]


class Reason(StrEnum):
    MODIFIED = "modified"
    BAD_MAC = "bad_mac"
    INSERTED = "inserted"
    DELETED = "deleted"
    REORDERED = "reordered"
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
    problems: tuple[Problem, ...]

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

    @property
    def ok(self) -> bool:
        return not self.unreadable and all(c.ok for c in self.chains)

    @property
    def first_problems(self) -> list[Problem]:
        return [c.first for c in self.chains if c.first is not None]
