"""Strict reading: what a protected record must look like, and what is reported.

A ciphertext that was moved, swapped or tampered with fails to decrypt (its
associated data binds it to its record, see ``docs/envelope.md``). Two changes
cannot fail to decrypt, because nothing is decrypted: a ciphertext *replaced by
plain text*, and text that looks like an envelope of a version this reader does
not know. :func:`strict_violations` finds both, from the topology alone:

* ``plaintext``: a field the topology's ``fields:`` rules encrypt as a whole value
  (not inline) does not hold exactly one readable envelope;
* ``unknown_envelope``: text starting like an envelope (``ssec:v<digits>:``) that is
  not a readable one (an unknown version, a damaged header or payload).

:class:`StrictReport` adds the decryption failures of a role's view that are not
an erasure (``key_destroyed``: a forgotten subject is expected to stay unreadable),
and counts version-1 envelopes (readable, but not bound to their record).
Reports name paths and reason codes only, never a value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from streamsec.actions.encrypt import is_envelope
from streamsec.crypto.envelope import ENVELOPE_RE, PREFIX_RE
from streamsec.protection.analysis import CompiledRules, analyze_structure
from streamsec.protection.protector import KEY_PATH
from streamsec.records.paths import format_path, get_at, iter_leaves
from streamsec.topology.model import Topology

__all__ = ["ERASED", "StrictChecker", "StrictReport", "Violation"]

ERASED: Final = frozenset({"key_destroyed", "subject_forgotten"})
"""Failure reasons that mean "erased on purpose", not "tampered"."""


@dataclass(frozen=True, slots=True)
class Violation:
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class StrictReport:
    violations: tuple[Violation, ...]
    legacy: int
    """Version-1 envelopes met (they decrypt, but are bound to topology and path only)."""

    @property
    def ok(self) -> bool:
        return not self.violations


def _unknown_envelopes(text: str) -> int:
    """How many envelope-like starts in ``text`` are not the start of a readable one
    (a readable envelope's payload cannot hold ``:``, so none starts inside one)."""
    readable = {m.start() for m in ENVELOPE_RE.finditer(text)}
    return sum(1 for m in PREFIX_RE.finditer(text) if m.start() not in readable)


class StrictChecker:
    """The strict checks of one topology's protected records (pure)."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._rules = CompiledRules(topology)

    def check(
        self, record: dict[str, Any], *, key: str | None = None,
        failed: Iterable[tuple[str, str]] = (),
    ) -> StrictReport:
        """Violations of ``record`` (as read, before decryption) and of the failures
        ``(path, reason)`` met while decrypting it."""
        found: list[Violation] = []
        for target in analyze_structure(record, self._rules).rule_targets:
            if target.rule.action != "encrypt" or target.rule.inline:
                continue
            if not is_envelope(get_at(record, target.location)):
                found.append(Violation(target.path, "plaintext"))
        legacy = 0
        leaves = [(format_path(loc), v) for loc, v in iter_leaves(record) if isinstance(v, str)]
        if key is not None:
            leaves.append((KEY_PATH, key))
        for path, text in leaves:
            if "ssec:" not in text:
                continue
            if _unknown_envelopes(text):
                found.append(Violation(path, "unknown_envelope"))
            legacy += sum(1 for m in ENVELOPE_RE.finditer(text) if m["version"] == "1")
        found.extend(Violation(path, reason) for path, reason in failed if reason not in ERASED)
        return StrictReport(tuple(dict.fromkeys(found)), legacy)
