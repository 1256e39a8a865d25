"""Step 3: decide what to do with each value. Topology rules first, then the policy
defaults for each entity type and category. The plan is immutable and holds no values."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from streamsec.classification.model import (
    Category,
    FieldClassification,
    Finding,
    RecordClassification,
    Sensitivity,
)
from streamsec.classification.taxonomy import Taxonomy
from streamsec.frozen import quick_init
from streamsec.protection.analysis import RecordAnalysis, RuleTarget
from streamsec.records.paths import JsonValue, Location, get_at
from streamsec.topology.model import DefaultActionName, FieldRule, Policy

__all__ = ["PlannedSpan", "PlannedStep", "ProtectionPlan", "plan_record", "policy_rule"]


@dataclass(frozen=True, slots=True)
class PlannedSpan:
    finding: Finding
    rule: FieldRule


@quick_init
@dataclass(frozen=True, slots=True)
class PlannedStep:
    location: Location
    path: str
    rule: FieldRule
    mode: Literal["field", "inline"]
    source: Literal["rule", "policy"]
    entity_types: tuple[str, ...]
    category: Category | None
    sensitivity: Sensitivity | None
    score: float | None = None
    spans: tuple[PlannedSpan, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class ProtectionPlan:
    steps: tuple[PlannedStep, ...]

    def encryption_modes(self) -> frozenset[bool]:
        """The encryptions the plan applies: ``deterministic`` flags (True: AES-SIV),
        so the keys can be fetched or created for many records at once."""
        return frozenset(
            rule.deterministic
            for step in self.steps
            for rule in ((s.rule for s in step.spans) if step.mode == "inline" else (step.rule,))
            if rule.action == "encrypt"
        )


def policy_rule(entity_types: tuple[str, ...], category: Category, policy: Policy) -> FieldRule:
    for entity in entity_types:
        if entity in policy.entities:
            return policy.entities[entity]
    if category in policy.categories:
        return policy.categories[category]
    return _default_rule(policy.default_action)


@functools.lru_cache(maxsize=16)
def _default_rule(action: DefaultActionName) -> FieldRule:
    """One shared (frozen) rule per default action: validating a new one per field costs."""
    return FieldRule(action=action)


def _inline_step(
    field: FieldClassification, taxonomy: Taxonomy, policy: Policy, rule: FieldRule | None
) -> PlannedStep | None:
    spans: list[PlannedSpan] = []
    for finding in field.findings:
        category, sensitivity = taxonomy.classify(finding.entity_type)
        if rule is not None:
            spans.append(PlannedSpan(finding, rule))
        elif sensitivity.rank >= policy.min_sensitivity.rank:
            spans.append(
                PlannedSpan(finding, policy_rule((finding.entity_type,), category, policy))
            )
    if not spans:
        return None
    kept = tuple(dict.fromkeys(s.finding.entity_type for s in spans))
    category, sensitivity = taxonomy.classify_all(kept)
    return PlannedStep(
        location=field.location,
        path=field.path,
        rule=rule or spans[0].rule,
        mode="inline",
        source="rule" if rule is not None else "policy",
        entity_types=kept,
        category=category,
        sensitivity=sensitivity,
        score=max(s.finding.score for s in spans),
        spans=tuple(spans),
    )


_RULE_STEPS: dict[tuple[int, int], tuple[RuleTarget, Taxonomy, PlannedStep]] = {}
"""The step of a rule target, by the identity of the target and the taxonomy (a
compiled shape hands the same targets to each of its records); the entry holds both,
so an identity is never reused while it is remembered."""
_RULE_STEPS_KEPT = 4096


def _rule_step(target: RuleTarget, taxonomy: Taxonomy) -> PlannedStep:
    known = _RULE_STEPS.get((id(target), id(taxonomy)))
    if known is not None and known[0] is target and known[1] is taxonomy:
        return known[2]
    entity = target.rule.entity
    category, sensitivity = taxonomy.classify(entity) if entity else (None, None)
    step = PlannedStep(
        location=target.location,
        path=target.path,
        rule=target.rule,
        mode="field",
        source="rule",
        entity_types=(entity,) if entity else (),
        category=category,
        sensitivity=sensitivity,
    )
    if len(_RULE_STEPS) >= _RULE_STEPS_KEPT:
        _RULE_STEPS.clear()
    _RULE_STEPS[id(target), id(taxonomy)] = (target, taxonomy, step)
    return step


def plan_record(
    record: dict[str, JsonValue],
    analysis: RecordAnalysis,
    classification: RecordClassification,
    policy: Policy,
    taxonomy: Taxonomy,
) -> ProtectionPlan:
    steps = [_rule_step(target, taxonomy) for target in analysis.rule_targets]
    for field in classification.fields:
        rule = analysis.inline_rules.get(field.location)
        is_text = isinstance(get_at(record, field.location), str)
        if rule is not None or (is_text and not field.whole_value):
            step = _inline_step(field, taxonomy, policy, rule)
            if step is not None:
                steps.append(step)
            continue
        if field.sensitivity.rank < policy.min_sensitivity.rank:
            continue
        steps.append(
            PlannedStep(
                location=field.location,
                path=field.path,
                rule=policy_rule(field.entity_types, field.category, policy),
                mode="field",
                source="policy",
                entity_types=field.entity_types,
                category=field.category,
                sensitivity=field.sensitivity,
                score=field.score,
            )
        )
    return ProtectionPlan(tuple(steps))
