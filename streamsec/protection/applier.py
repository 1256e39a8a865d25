"""Step 4: apply a plan to a copy of the record with the registered actions."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from streamsec.actions.base import Action, ActionContext, get_action
from streamsec.crypto.base import FieldCipher
from streamsec.protection.planner import PlannedStep, ProtectionPlan
from streamsec.protection.result import FieldAction
from streamsec.records.paths import JsonValue, delete_at, get_at, set_at
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


def _context(
    step: PlannedStep, rule: FieldRule, entity: str | None, topology: str,
    cipher: FieldCipher, subject: str | None,
) -> ActionContext:
    return ActionContext(
        topology=topology, path=step.path, entity_type=entity, cipher=cipher,
        params=rule.params, subject=subject,
        category=step.category.value if step.category else None,
    )


def _field_action(step: PlannedStep, action: str, key_id: str | None, spans: int) -> FieldAction:
    return FieldAction(
        path=step.path, action=action, mode=step.mode, entity_types=step.entity_types,
        category=step.category.value if step.category else None,
        sensitivity=step.sensitivity.value if step.sensitivity else None,
        source=step.source, key_id=key_id, score=step.score, spans=spans,
    )


def _apply_inline(
    record: dict[str, Any], step: PlannedStep, topology: str, cipher: FieldCipher,
    subject: str | None,
) -> list[FieldAction]:
    text: str = get_at(record, step.location)
    used: dict[str, list[str | None]] = defaultdict(list)
    for span in sorted(step.spans, key=lambda s: s.finding.start, reverse=True):
        f = span.finding
        ctx = _context(step, span.rule, f.entity_type, topology, cipher, subject)
        outcome = _ACTIONS.get(span.rule.action).apply_span(text[f.start : f.end], ctx)
        text = text[: f.start] + str(outcome.value) + text[f.end :]
        used[span.rule.action].append(outcome.key_id)
    set_at(record, step.location, text)
    return [
        _field_action(step, action, next((k for k in keys if k), None), len(keys))
        for action, keys in used.items()
    ]


def apply_plan(
    record: dict[str, JsonValue],
    plan: ProtectionPlan,
    *,
    topology: str,
    cipher: FieldCipher,
    subject: str | None = None,
) -> tuple[dict[str, JsonValue], tuple[FieldAction, ...]]:
    protected: dict[str, JsonValue] = copy_json(record)
    results: list[FieldAction] = []
    drops = []
    for step in plan.steps:
        if step.mode == "inline":
            results.extend(_apply_inline(protected, step, topology, cipher, subject))
            continue
        entity = step.entity_types[0] if step.entity_types else None
        ctx = _context(step, step.rule, entity, topology, cipher, subject)
        outcome = _ACTIONS.get(step.rule.action).apply(get_at(protected, step.location), ctx)
        if outcome.dropped:
            drops.append(step.location)
        else:
            set_at(protected, step.location, outcome.value)
        results.append(_field_action(step, step.rule.action, outcome.key_id, 1))
    for location in sorted(drops, key=len, reverse=True):
        delete_at(protected, location)
    return protected, tuple(results)
