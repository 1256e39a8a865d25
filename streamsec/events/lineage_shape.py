"""The observed shape and classification of a topology's records, for lineage.

:class:`ObservedShape` accumulates, per schema path (``card.number``,
``orders[*].sku``), the JSON types seen and the protection metadata of the field
actions applied there. It never sees a value: the worker feeds it the record's
leaf paths with their JSON type names (:func:`leaf_types`) and the
:class:`~streamsec.protection.result.FieldAction` list.

Schema facets use flat fields named by schema path, the same names the column
lineage facet and the audit events use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from streamsec.protection.result import FieldAction
from streamsec.records.paths import format_path, iter_leaves
from streamsec.topology.model import Topology

__all__ = ["DEFAULT_MAX_FIELDS", "FieldState", "ObservedShape", "json_type", "leaf_types"]

DEFAULT_MAX_FIELDS: Final = 500
_SEEN_SIGNATURES: Final = 4096
"""Record signatures (shape + actions) remembered as already merged."""
_MASKING: Final = frozenset({"encrypt", "mask", "redact", "hash"})


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object"


def leaf_types(record: Mapping[str, Any]) -> dict[str, str]:
    """Schema path -> JSON type name of every scalar leaf (the record's shape, no values).

    One walk that extends each path string as it goes down (called for every record:
    formatting each leaf's whole location again cost a third of the record's lineage
    work); a record deeper than :data:`_DEEP` takes the general route."""
    out: dict[str, str] = {}
    try:
        _walk(record, "", out, 0)
    except _Deep:
        out = {}
        for location, value in iter_leaves(record):
            _add(out, format_path(location), json_type(value))
    return out


_DEEP: Final = 200
_KEYS: dict[str, tuple[str, str]] = {}
"""Key -> (its path as the first segment, as a later one); bounded by :data:`_KEYS_MAX`."""
_KEYS_MAX: Final = 65_536


class _Deep(Exception):
    pass


def _add(out: dict[str, str], path: str, kind: str) -> None:
    previous = out.get(path)
    out[path] = kind if previous in (None, kind) else "|".join(sorted({previous, kind}))


def _segment(key: str, first: bool) -> str:
    forms = _KEYS.get(key)
    if forms is None:
        forms = (format_path((key,)), format_path(("k", key))[1:])
        if len(_KEYS) < _KEYS_MAX:
            _KEYS[key] = forms
    return forms[0] if first else forms[1]


def _walk(node: Any, path: str, out: dict[str, str], depth: int) -> None:
    if depth > _DEEP:
        raise _Deep
    if isinstance(node, dict):
        first = not path
        for key, value in node.items():
            _walk(value, path + _segment(key, first), out, depth + 1)
    elif isinstance(node, list):
        inner = path + "[*]"
        for value in node:
            _walk(value, inner, out, depth + 1)
    elif node is not None:
        _add(out, path, json_type(node))


@dataclass(slots=True)
class FieldState:
    types: set[str] = field(default_factory=set)
    actions: set[str] = field(default_factory=set)
    modes: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    sensitivities: set[str] = field(default_factory=set)
    entity_types: set[str] = field(default_factory=set)
    deterministic: bool = False

    def merge(self, other: FieldState) -> bool:
        changed = False
        for name in ("types", "actions", "modes", "categories", "sensitivities", "entity_types"):
            mine: set[str] = getattr(self, name)
            theirs: set[str] = getattr(other, name)
            if not theirs <= mine:
                mine |= theirs
                changed = True
        return changed

    @property
    def classified(self) -> bool:
        return bool(self.categories or self.entity_types)

    def describe(self) -> str:
        parts = []
        if self.categories:
            parts.append("/".join(sorted(self.categories)))
        if self.sensitivities:
            parts.append("sensitivity " + "/".join(sorted(self.sensitivities)))
        if self.entity_types:
            parts.append("entities " + ",".join(sorted(self.entity_types)))
        return "; ".join(parts)

    def action_text(self, action: str) -> str:
        text = action
        if action == "encrypt" and self.deterministic:
            text += " (deterministic)"
        if "inline" in self.modes and action in _MASKING:
            text += " (inline)"
        return text


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith((parent + ".", parent + "["))


class ObservedShape:
    """Accumulated input shape and protection of one topology's records."""

    def __init__(self, topology: Topology, *, max_fields: int = DEFAULT_MAX_FIELDS) -> None:
        self.max_fields = max_fields
        self.overflow = False
        self.inputs: dict[str, FieldState] = {}
        self.protected: dict[str, FieldState] = {}
        for path, rule in topology.fields.items():
            state = FieldState(actions={rule.action}, modes={"inline" if rule.inline else "field"})
            state.deterministic = bool(rule.action == "encrypt" and rule.deterministic)
            if rule.entity:
                state.entity_types.add(rule.entity)
            override = topology.classification.get(path)
            if override is not None:
                state.categories.add(str(override.category))
                state.sensitivities.add(str(override.sensitivity))
            self.protected[path] = state
        self._seen: set[tuple[Any, ...]] = set()
        self._deterministic = {
            p for p, r in topology.fields.items() if r.action == "encrypt" and r.deterministic
        }

    def add(self, leaves: Mapping[str, str], actions: Iterable[FieldAction]) -> bool:
        """Merge one record's shape and field actions; True when anything new was seen."""
        actions = tuple(actions)
        signature = (
            tuple(leaves.items()),
            tuple((a.path, a.action, a.mode, a.category, a.sensitivity, a.entity_types)
                  for a in actions),
        )  # fmt: skip
        if signature in self._seen:  # merging the same again changes nothing
            return False
        if len(self._seen) >= _SEEN_SIGNATURES:
            self._seen.clear()
        self._seen.add(signature)
        changed = False
        for path, kind in leaves.items():
            changed |= self._merge(self.inputs, path, FieldState(types=set(kind.split("|"))))
        for action in actions:
            state = FieldState(
                actions={action.action},
                modes={action.mode},
                categories={action.category} if action.category else set(),
                sensitivities={action.sensitivity} if action.sensitivity else set(),
                entity_types=set(action.entity_types),
            )
            changed |= self._merge(self.protected, action.path, state)
        return changed

    def _merge(self, table: dict[str, FieldState], path: str, state: FieldState) -> bool:
        current = table.get(path)
        if current is None:
            if len(self.inputs) + len(self.protected) >= self.max_fields:
                self.overflow = True
                return False
            state.deterministic = path in self._deterministic
            table[path] = state
            return True
        return current.merge(state)

    def classification(self, path: str) -> FieldState:
        """What is known of the protection of ``path`` (its own or an enclosing rule's)."""
        merged = FieldState()
        for parent, state in self.protected.items():
            if _under(path, parent):
                merged.merge(state)
                merged.deterministic |= state.deterministic
        return merged

    def input_paths(self) -> dict[str, set[str]]:
        """Input field -> JSON types seen; declared rule paths not (yet) seen have no type."""
        out = {path: set(state.types) for path, state in self.inputs.items()}
        for path in self.protected:
            if not any(_under(leaf, path) for leaf in self.inputs):
                out.setdefault(path, set())
        return dict(sorted(out.items()))

    def output_paths(self) -> dict[str, list[str]]:
        """Output field -> the input fields it is made from (dropped fields have none)."""
        inputs = self.input_paths()
        rewritten = {p for p, s in self.protected.items() if s.actions - {"keep"}}
        out: dict[str, list[str]] = {}
        for path in sorted(rewritten):
            if self.protected[path].actions == {"drop"}:
                continue
            out[path] = sorted(leaf for leaf in inputs if _under(leaf, path)) or [path]
        for leaf in inputs:
            if not any(_under(leaf, p) for p in rewritten):
                out.setdefault(leaf, [leaf])
        return dict(sorted(out.items()))
