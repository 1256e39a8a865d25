"""Step 1 of protecting a record: which values do the topology's rules decide, and
which leaves must detection look at. Pure; no detection happens here."""

from __future__ import annotations

from dataclasses import dataclass

from streamsec.frozen import quick_init
from streamsec.records.paths import (
    JsonValue,
    Location,
    Segment,
    expand,
    format_path,
    get_at,
    iter_leaves,
    matches,
    parse_path,
)
from streamsec.topology.model import FieldRule, Topology

__all__ = [
    "OBJECT_KEY_PATH", "CompiledRules", "RecordAnalysis", "RulePass", "RuleTarget",
    "analyze_structure", "object_keys", "rule_pass", "scannable", "scanned_here",
]

# Integers this long may be card numbers, SSNs or account numbers sent as numbers.
_MIN_SCANNED_INT = 10**8


@dataclass(frozen=True, slots=True)
class RuleTarget:
    """A value an explicit field rule applies to (a scalar, or a whole subtree)."""

    location: Location
    path: str
    rule: FieldRule


@quick_init
@dataclass(frozen=True, slots=True)
class RecordAnalysis:
    rule_targets: tuple[RuleTarget, ...]
    scan: tuple[tuple[Location, str], ...]
    """Leaves for detection, with their text (non-string leaves as their JSON text)."""
    inline_rules: dict[Location, FieldRule]
    """Leaves under an ``inline: true`` rule: detection decides the spans, the rule the action."""
    object_keys: tuple[tuple[str, str], ...] = ()
    """``(detection path, key)`` for every distinct object key: keys become paths in
    audit and lineage events and metrics, so they are checked too."""
    scan_paths: tuple[str, ...] = ()
    """The schema path of each ``scan`` entry, when known (a compiled shape's)."""


class CompiledRules:
    """A topology's field rules and ignore paths, parsed once."""

    def __init__(self, topology: Topology) -> None:
        self.rules: list[tuple[tuple[Segment, ...], FieldRule]] = [
            (pattern, rule) for pattern, _, rule in topology.field_patterns()
        ]
        self.ignored = [parse_path(p) for p in topology.detection.ignore_paths]

    def expand(self, record: JsonValue, pattern: tuple[Segment, ...]) -> list[Location]:
        """Concrete locations of ``pattern`` that exist in ``record``."""
        return expand(record, pattern)

    def has_rule_inside(self, pattern: tuple[Segment, ...]) -> bool:
        return any(len(p) > len(pattern) and p[: len(pattern)] == pattern for p, _ in self.rules)


def _scannable(value: JsonValue) -> str | None:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _MIN_SCANNED_INT:
        return str(value)
    return None


@dataclass(frozen=True, slots=True)
class RulePass:
    """What the field rules decide for one record, before any value is read: a function
    of the record's shape (its keys, list lengths and container/leaf kinds) alone."""

    targets: tuple[RuleTarget, ...]
    inline: dict[Location, FieldRule]
    covered: frozenset[Location]

    def is_covered(self, location: Location) -> bool:
        covered = self.covered
        return any(location[:i] in covered for i in range(len(location) + 1))


def rule_pass(record: dict[str, JsonValue], rules: CompiledRules) -> RulePass:
    covered: set[Location] = set()
    targets: list[RuleTarget] = []
    inline: dict[Location, FieldRule] = {}

    def is_covered(location: Location) -> bool:
        return any(location[:i] in covered for i in range(len(location) + 1))

    for pattern, rule in rules.rules:  # most specific first
        for location in rules.expand(record, pattern):
            if is_covered(location):
                continue
            node = get_at(record, location)
            container = isinstance(node, dict | list)
            if rule.inline:
                for leaf, value in iter_leaves(node, location):
                    if not is_covered(leaf) and isinstance(value, str):
                        inline[leaf] = rule
                covered.add(location)
            elif not container or not rules.has_rule_inside(pattern):
                targets.append(RuleTarget(location, format_path(location), rule))
                covered.add(location)
            else:  # the rule applies leaf by leaf around more specific rules
                for leaf, _ in iter_leaves(node, location):
                    if not is_covered(leaf):
                        targets.append(RuleTarget(leaf, format_path(leaf), rule))
                        covered.add(leaf)
    return RulePass(tuple(targets), inline, frozenset(covered))


def scanned_here(location: Location, decided: RulePass, rules: CompiledRules) -> bool:
    """Whether detection may look at the leaf at ``location`` (not decided by a rule,
    not under an ignored path); inline leaves are always scanned."""
    if location in decided.inline:
        return True
    return not decided.is_covered(location) and not any(
        matches(p, location) for p in rules.ignored
    )


def scannable(value: JsonValue) -> str | None:
    """The text detection reads for a leaf value, or None: blank strings, floats, booleans
    and short integers hold nothing to find."""
    return _scannable(value)


def analyze_structure(record: dict[str, JsonValue], rules: CompiledRules) -> RecordAnalysis:
    decided = rule_pass(record, rules)
    inline = decided.inline
    scan: list[tuple[Location, str]] = []
    for location, value in iter_leaves(record):
        if location in inline:
            scan.append((location, value))
            continue
        if not scanned_here(location, decided, rules):
            continue
        text = _scannable(value)
        if text is not None:
            scan.append((location, text))
    return RecordAnalysis(decided.targets, tuple(scan), inline, object_keys(record))


OBJECT_KEY_PATH = "$object_key"


def object_keys(record: dict[str, JsonValue]) -> tuple[tuple[str, str], ...]:
    """Every distinct object key, wherever it is: even keys inside kept or encrypted
    values show up in the record's shape (lineage), so all of them are checked."""
    seen: dict[str, None] = {}
    stack: list[JsonValue] = [record]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            seen.update(dict.fromkeys(node))
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return tuple((OBJECT_KEY_PATH, key) for key in seen if key.strip())
