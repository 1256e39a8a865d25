"""Step 4: apply a plan to a copy of the record with the registered actions.

Every ciphertext is bound to its record (:mod:`streamsec.protection.binding`): the
subject field is protected first, then the record-id field, then the rest, each
bound to the references read from the fields protected before it. The references
are then looked up in the protected record, as a reader will; a record whose
subject or record id a reader could not find the same way fails (fail closed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from streamsec.actions.base import Action, ActionContext, get_action
from streamsec.crypto.aad import NO_BINDING, Binding
from streamsec.crypto.base import FieldCipher
from streamsec.crypto.plaintext import DEFAULT_PAD
from streamsec.errors import ProtectionError
from streamsec.frozen import quick_init
from streamsec.protection.binding import RecordBinder, RecordBindings, reference
from streamsec.protection.planner import PlannedStep, ProtectionPlan
from streamsec.protection.result import FieldAction
from streamsec.records.paths import (
    JsonValue,
    Location,
    delete_at,
    get_at,
    set_at,
)
from streamsec.topology.model import FieldRule

__all__ = ["apply_plan", "copy_json"]


def copy_json(value: JsonValue) -> JsonValue:
    """A deep copy of a JSON value (much faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


class _Actions:
    def __init__(self) -> None:
        self._cache: dict[str, Action] = {}

    def get(self, name: str) -> Action:
        action = self._cache.get(name)
        if action is None:
            action = self._cache[name] = get_action(name)
        return action


_ACTIONS = _Actions()


@quick_init
@dataclass(frozen=True, slots=True)
class _Run:
    """What every step of one record shares."""

    topology: str
    cipher: FieldCipher
    subject: str | None
    pad_to: int


def _context(
    step: PlannedStep, rule: FieldRule, entity: str | None, run: _Run, binding: Binding
) -> ActionContext:
    return ActionContext(
        topology=run.topology, path=step.path, entity_type=entity, cipher=run.cipher,
        params=rule.params, subject=run.subject, binding=binding, pad_to=run.pad_to,
        category=step.category._value_ if step.category else None,  # .value, sans descriptor
    )


_FIELD_ACTIONS: dict[tuple[int, str, str | None], tuple[PlannedStep, FieldAction]] = {}
"""The action of a whole-value step, by the step's identity (a rule target's step is
shared by every record of its compiled shape), its action and key id; the entry holds
the step, so its identity is never reused while it is remembered."""
_FIELD_ACTIONS_KEPT = 4096


def _whole_action(step: PlannedStep, action: str, key_id: str | None) -> FieldAction:
    if step.source != "rule":  # a policy step is the record's own: nothing to share
        return _field_action(step, action, key_id, 1)
    key = (id(step), action, key_id)
    known = _FIELD_ACTIONS.get(key)
    if known is not None and known[0] is step:
        return known[1]
    made = _field_action(step, action, key_id, 1)
    if len(_FIELD_ACTIONS) >= _FIELD_ACTIONS_KEPT:
        _FIELD_ACTIONS.clear()
    _FIELD_ACTIONS[key] = (step, made)
    return made


_INTERNED: dict[tuple[Any, ...], FieldAction] = {}
"""Field actions by value (the type of the score included: ``1.0`` and ``1`` compare
equal), so the records of one shape share theirs (a policy step is each record's own,
its action the same); a FieldAction is immutable."""
_INTERNED_KEPT = 4096


def _field_action(step: PlannedStep, action: str, key_id: str | None, spans: int) -> FieldAction:
    category = step.category._value_ if step.category else None  # ``.value``, without
    sensitivity = step.sensitivity._value_ if step.sensitivity else None  # the descriptor
    score = step.score
    key = (step.path, action, step.mode, step.entity_types, category, sensitivity,
           step.source, key_id, score, type(score), spans)  # fmt: skip
    made = _INTERNED.get(key)
    if made is None:
        if len(_INTERNED) >= _INTERNED_KEPT:
            _INTERNED.clear()
        made = _INTERNED[key] = FieldAction(
            path=step.path, action=action, mode=step.mode, entity_types=step.entity_types,
            category=category, sensitivity=sensitivity, source=step.source, key_id=key_id,
            score=score, spans=spans,
        )
    return made


def _apply_inline(
    record: dict[str, Any], step: PlannedStep, run: _Run, binding: Binding
) -> list[FieldAction]:
    text: str = get_at(record, step.location)
    used: dict[str, list[str | None]] = defaultdict(list)
    for span in sorted(step.spans, key=lambda s: s.finding.start, reverse=True):
        f = span.finding
        ctx = _context(step, span.rule, f.entity_type, run, binding)
        outcome = _ACTIONS.get(span.rule.action).apply_span(text[f.start : f.end], ctx)
        text = text[: f.start] + str(outcome.value) + text[f.end :]
        used[span.rule.action].append(outcome.key_id)
    set_at(record, step.location, text)
    return [
        _field_action(step, action, next((k for k in keys if k), None), len(keys))
        for action, keys in used.items()
    ]


def _ordered(
    steps: tuple[PlannedStep, ...], first: Location | None, second: Location | None
) -> list[tuple[int, PlannedStep]]:
    """Steps at the subject location, then at the record-id location, then the rest."""

    def rank(item: tuple[int, PlannedStep]) -> int:
        location = item[1].location
        return 0 if location == first else 1 if location == second else 2

    return sorted(enumerate(steps), key=rank)


def _value(protected: dict[str, Any], location: Location | None) -> str:
    if location is None:
        return ""
    try:
        return reference(get_at(protected, location)) or ""
    except (KeyError, IndexError, TypeError):
        return ""


def _settled(refs: RecordBindings, protected: dict[str, Any]) -> RecordBindings:
    """The references as the subject and record-id fields stand now."""
    return replace(
        refs, subject=_value(protected, refs.subject_at), record=_value(protected, refs.record_at)
    )


def apply_plan(
    record: dict[str, JsonValue],
    plan: ProtectionPlan,
    *,
    topology: str,
    cipher: FieldCipher,
    subject: str | None = None,
    binder: RecordBinder | None = None,
    pad_to: int = DEFAULT_PAD,
) -> tuple[dict[str, JsonValue], tuple[FieldAction, ...]]:
    """Protect a copy of ``record``. Without a ``binder`` (tools, tests) ciphertexts are
    bound to topology and path only."""
    protected: dict[str, JsonValue] = copy_json(record)
    run = _Run(topology, cipher, subject, pad_to)
    refs = binder.of(record) if binder else RecordBindings("", "", None, None, False)
    results: list[tuple[int, list[FieldAction]]] = []
    drops = []
    anchors = [a for a in (refs.subject_at, refs.record_at) if a is not None]
    settled = _settled(refs, protected) if anchors else refs
    steps = (
        _ordered(plan.steps, refs.subject_at, refs.record_at) if anchors
        else enumerate(plan.steps)
    )
    for index, step in steps:
        binding = settled.at(step.location) if binder else NO_BINDING
        if step.mode == "inline":
            results.append((index, _apply_inline(protected, step, run, binding)))
            if anchors and any(a[: len(step.location)] == step.location for a in anchors):
                settled = _settled(refs, protected)
            continue
        entity = step.entity_types[0] if step.entity_types else None
        ctx = _context(step, step.rule, entity, run, binding)
        outcome = _ACTIONS.get(step.rule.action).apply(get_at(protected, step.location), ctx)
        if outcome.dropped:
            drops.append(step.location)
        else:
            set_at(protected, step.location, outcome.value)
        results.append((index, [_whole_action(step, step.rule.action, outcome.key_id)]))
        if anchors and any(a[: len(step.location)] == step.location for a in anchors):
            settled = _settled(refs, protected)  # the subject or record-id value changed
    for location in sorted(drops, key=len, reverse=True):
        delete_at(protected, location)
    if binder is not None and binder.binds:
        _check_references(protected, binder, refs)
    if anchors:  # steps ran out of plan order: the actions are listed in plan order
        results.sort(key=lambda item: item[0])
    return protected, tuple(action for _, actions in results for action in actions)


def _check_references(
    protected: dict[str, Any], binder: RecordBinder, refs: RecordBindings
) -> None:
    """A reader must find again the references this record's ciphertexts are bound to
    (a dropped subject or record-id field, say, leaves it nothing to find)."""
    if binder.of(protected) != _settled(refs, protected):
        raise ProtectionError(
            "the record's subject or record-id field is not in the protected record: keep, "
            "hash or encrypt it, its ciphertexts are bound to it"
        )
