"""Compiled record shapes: a structured record becomes a walk over known paths.

A record's *shape* is its object keys, list lengths and the JSON type of every leaf.
The first record of a shape is analysed in full (:func:`analysis.rule_pass`) and
compiled: the rule targets and the leaves detection may read, with their paths. A
later record of that shape is analysed by reading its leaves in order. Its object keys
are the same strings as the first record's, so once they were detected clean they are
not detected again. This part is exact.

Detection of each value stays the rule. A value skips it only when all of these hold
(fail closed: any doubt means full detection):

1. its path, in this shape, gave no finding in any full detection so far (one finding
   and the path is detected in full for as long as the shape is cached), and at least
   :data:`LEARN_AFTER` clean values;
2. a cheap validator proves the value cannot be sensitive, and the path held that kind
   of value at least :data:`LEARN_AFTER` times: an ISO-8601 date-time with a time of
   day; a UUID with no run of more than 6 digits; a decimal amount of at most 6 digits;
   where the path's name says benign (``ts``, ``count``), epoch seconds or milliseconds
   (an integer starting with 1: no card, no 10-digit NANP phone number); an id made of
   a prefix the path already showed clean (letters and separators, or ``-``-separated
   segments that each hold a letter) and a short lowercase hex/digit tail (no
   separators, no run of more than 6 digits); or a value of the path's small closed set
   (each one already detected clean at this path). A free-text path skips only values
   of its closed set and decimals;
3. the record is not one of the random sample (one in ``detection.recheck_every``)
   whose every value is detected in full. A sampled value that would have skipped yet
   gives a finding is a *disagreement*: it is counted, logged (path only) and the
   shape is dropped, so it is learnt again from scratch.

Record keys (``$key``) use the same per-path learning (:meth:`ShapeCache.key_plan`); the verdicts
and validators are in :mod:`streamsec.protection.verdicts`.
Memory is bounded: at most :data:`MAX_SHAPES` shapes (LRU), :data:`MAX_LEAVES` tokens
per shape, :data:`MAX_CLOSED` values of at most :data:`MAX_CLOSED_CHARS` characters per
closed set. Closed sets and id prefixes are kept as keyed BLAKE2b digests (a random
key per process, as the detector's memo keeps benign values), never as values.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from streamsec.classification.model import Finding
from streamsec.detection.fields import field_hint
from streamsec.frozen import quick_init
from streamsec.protection.analysis import (
    CompiledRules,
    RecordAnalysis,
    RuleTarget,
    analyze_structure,
    object_keys,
    rule_pass,
    scannable,
    scanned_here,
)
from streamsec.protection.verdicts import LEARN_AFTER, MAX_CLOSED, PathVerdicts
from streamsec.records.paths import (
    JsonValue,
    Location,
    format_path,
    matches,
    parse_path,
)
from streamsec.topology.model import FieldRule

__all__ = [
    "LEARN_AFTER", "MAX_CLOSED", "MAX_LEAVES", "MAX_SHAPES", "PathVerdicts", "Prepared",
    "ShapeCache", "flatten",
]

log = logging.getLogger(__name__)

MAX_SHAPES: Final = 128
MAX_LEAVES: Final = 1_024
MAX_DEPTH: Final = 16

_DICT: Final = object()
_LIST: Final = object()
_END: Final = object()
_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
_NUMBERS: Final = itertools.count(1)


class _TooBig(Exception):
    pass


def flatten(record: dict[str, JsonValue]) -> tuple[tuple[object, ...], list[JsonValue]] | None:
    """The record's shape signature and its leaf values (``null`` included) in document
    order; None for a record too big or too deep to be worth a compiled shape."""
    sig: list[object] = []
    leaves: list[JsonValue] = []
    try:
        _walk_dict(record, sig, leaves, 0)
    except _TooBig:
        return None
    return tuple(sig), leaves


def _walk_dict(node: dict[str, Any], sig: list[object], leaves: list[JsonValue], depth: int
               ) -> None:
    if depth > MAX_DEPTH or len(sig) > MAX_LEAVES:
        raise _TooBig
    for key, value in node.items():
        sig.append(key)
        _walk_value(value, sig, leaves, depth)


def _walk_value(value: Any, sig: list[object], leaves: list[JsonValue], depth: int) -> None:
    kind = type(value)
    if kind is dict:
        sig.append(_DICT)
        _walk_dict(value, sig, leaves, depth + 1)
        sig.append(_END)
    elif kind is list:
        sig.append(_LIST)
        if depth + 1 > MAX_DEPTH or len(sig) + len(value) > MAX_LEAVES:
            raise _TooBig
        for item in value:
            _walk_value(item, sig, leaves, depth + 1)
        sig.append(_END)
    elif kind in _SCALARS:
        sig.append(kind)
        leaves.append(value)
    else:
        raise _TooBig


def _leaf_locations(node: Any, location: Location, out: list[Location]) -> None:
    """Leaf locations in :func:`flatten`'s order."""
    if isinstance(node, dict):
        for key, value in node.items():
            _leaf_locations(value, (*location, key), out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _leaf_locations(value, (*location, i), out)
    else:
        out.append(location)


@dataclass(slots=True)
class _Slot:
    index: int
    location: Location
    path: str
    inline: bool
    verdicts: PathVerdicts


@dataclass(slots=True)
class _Shape:
    targets: tuple[RuleTarget, ...]
    inline: dict[Location, FieldRule]
    slots: tuple[_Slot, ...]
    object_keys: tuple[tuple[str, str], ...]
    keys_clean: bool = False
    number: int = field(default_factory=lambda: next(_NUMBERS))
    """Unique in the process (a shape compiled again gets a new one)."""


@quick_init
@dataclass(frozen=True, slots=True)
class Prepared:
    """One record's analysis and what the cache needs to learn from its detection."""

    analysis: RecordAnalysis
    shape: _Shape | None = None
    slots: tuple[_Slot, ...] = ()
    """The slot of each scanned value (parallel to ``analysis.scan``)."""
    values: tuple[JsonValue, ...] = ()
    would_skip: frozenset[int] = frozenset()
    """Scanned values of a sampled record that would have skipped detection."""


@dataclass(slots=True)
class ShapeStats:
    shapes: int = 0
    skipped: int = 0
    sampled: int = 0
    disagreements: int = 0


class ShapeCache:
    """Compiled shapes of one topology's records, and their per-path verdicts."""

    def __init__(self, rules: CompiledRules, *, recheck_every: int = 64,
                 free_text: Sequence[str] = (), learn: bool = True) -> None:
        self._rules = rules
        self._free_text = [parse_path(p) for p in free_text]
        self._shapes: OrderedDict[tuple[object, ...], _Shape] = OrderedDict()
        self._every = recheck_every
        self._learn = learn and recheck_every > 1
        self._random = random.Random(os.urandom(16))  # noqa: S311 - unpredictable, not secret
        self.key_verdicts = PathVerdicts()
        self.stats = ShapeStats()
        self._lock = threading.Lock()

    def _sampled(self) -> bool:
        if self._random.random() * self._every < 1.0:
            self.stats.sampled += 1
            return True
        return False

    def prepare(self, record: dict[str, JsonValue]) -> Prepared:
        with self._lock:
            return self._prepare(record)

    def _prepare(self, record: dict[str, JsonValue]) -> Prepared:
        flat = flatten(record)
        if flat is None:
            return Prepared(analyze_structure(record, self._rules))
        sig, leaves = flat
        shape = self._shapes.get(sig)
        if shape is None:
            shape = self._compile(record, sig)
        else:
            self._shapes.move_to_end(sig)
        sampled = self._learn and self._sampled()
        scan: list[tuple[Location, str]] = []
        paths: list[str] = []
        slots: list[_Slot] = []
        values: list[JsonValue] = []
        would: list[int] = []
        for slot in shape.slots:
            value = leaves[slot.index]
            text = value if slot.inline else scannable(value)
            if text is None:
                continue
            if self._learn and not slot.inline and slot.verdicts.skips(value):
                if not sampled:
                    self.stats.skipped += 1
                    continue
                would.append(len(scan))
            scan.append((slot.location, text))
            paths.append(slot.path)
            slots.append(slot)
            values.append(value)
        keys = () if shape.keys_clean else shape.object_keys
        analysis = RecordAnalysis(shape.targets, tuple(scan), shape.inline, keys, tuple(paths))
        return Prepared(analysis, shape, tuple(slots), tuple(values), frozenset(would))

    def _compile(self, record: dict[str, JsonValue], sig: tuple[object, ...]) -> _Shape:
        decided = rule_pass(record, self._rules)
        locations: list[Location] = []
        _leaf_locations(record, (), locations)
        slots = []
        for index, location in enumerate(locations):
            if not scanned_here(location, decided, self._rules):
                continue
            path = format_path(location)
            hint = field_hint(path)
            free = hint.free_text or any(matches(p, location) for p in self._free_text)
            verdicts = PathVerdicts(free_text=free, benign_name=hint.benign)
            slots.append(_Slot(index, location, path, location in decided.inline, verdicts))
        shape = _Shape(
            decided.targets, decided.inline, tuple(slots), object_keys(record),
        )
        self._shapes[sig] = shape
        self.stats.shapes += 1
        while len(self._shapes) > MAX_SHAPES:
            self._shapes.popitem(last=False)
        return shape

    def learn(self, prepared: Prepared, findings: Sequence[tuple[Finding, ...]],
              key_findings: Sequence[tuple[Finding, ...]]) -> None:
        """The full detection of a prepared record (its scanned values and object keys)."""
        with self._lock:
            self._learn_record(prepared, findings, key_findings)

    def _learn_record(self, prepared: Prepared, findings: Sequence[tuple[Finding, ...]],
                      key_findings: Sequence[tuple[Finding, ...]]) -> None:
        shape = prepared.shape
        if shape is None:
            return
        if prepared.analysis.object_keys and not any(key_findings):
            shape.keys_clean = True
        if not self._learn:
            return
        for i, (slot, value, found) in enumerate(
            zip(prepared.slots, prepared.values, findings, strict=True)
        ):
            if found and i in prepared.would_skip:
                self._disagree(slot.path)
                return
            slot.verdicts.learn(value, bool(found))

    def _disagree(self, path: str) -> None:
        """A sampled value the validators passed gave a finding: drop every shape (their
        verdicts were learnt the same way) and count it."""
        self.stats.disagreements += 1
        log.warning(
            "full detection found something at %s that the learnt shape would have skipped; "
            "shapes dropped and learnt again", path,
        )
        self._shapes.clear()
        self.key_verdicts = PathVerdicts()

    # -- record keys -------------------------------------------------------------------
    def key_plan(self, keys: Sequence[str]) -> tuple[list[bool], bool]:
        """Which keys skip detection, and whether this batch of keys is a sample."""
        if not self._learn:
            return [False] * len(keys), False
        with self._lock:
            sampled = self._sampled()
            verdicts = self.key_verdicts
            return [verdicts.skips(k) for k in keys], sampled

    def learn_keys(self, keys: Sequence[str], found: Sequence[bool], would: Sequence[bool]
                   ) -> None:
        if not self._learn:
            return
        with self._lock:
            verdicts = self.key_verdicts
            for key, hit, skip in zip(keys, found, would, strict=True):
                if hit and skip:
                    self._disagree("$key")
                    return
                verdicts.learn(key, hit)
