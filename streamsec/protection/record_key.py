"""The Kafka record key, planned like any field and protected from the key alone.

A key is detected and classified as one value at the path ``$key``; the topology's
policy picks its action exactly as for a field (``EMAIL_ADDRESS: hash`` hashes an
e-mail record key; the default action encrypts it). Two rules keep keys usable as
keys:

* **Injective and deterministic.** Equal keys must stay equal (same partition, same
  compaction key) and different keys different. ``encrypt`` is therefore always
  deterministic (AES-SIV) on a key, and the actions that would merge keys
  (``mask``, ``redact``, ``drop``) become ``hash``, the keyed pseudonym.
* **From the key alone.** The protected key never depends on the record's value,
  so a tombstone (null value, no ``subject:`` field to read) gets the very same
  protected key as its record and compaction deletes the record. With a topology
  ``subject:``, an encrypted key is sealed under the per-subject key of the key's
  own text: erasing that subject shreds the key together with the rest of its
  data when the key is the subject id (the usual compacted-topic layout). See
  ``docs/keys.md`` (Record keys and tombstones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from streamsec.actions.base import ActionContext, get_action
from streamsec.classification.model import Finding
from streamsec.classification.taxonomy import Taxonomy
from streamsec.crypto.base import FieldCipher
from streamsec.protection.planner import policy_rule
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = ["KEY_ACTIONS", "KEY_PATH", "KeyPlan", "apply_key_plan", "plan_record_key"]

KEY_PATH: Final = "$key"
KEY_ACTIONS: Final = frozenset({"encrypt", "hash", "keep"})
"""Actions that keep keys distinct; any other becomes ``hash`` on a key."""


@dataclass(frozen=True, slots=True)
class KeyPlan:
    """What to do with one record key (no value: the key is passed to apply)."""

    action: str
    params: dict[str, Any]
    subject: bool
    """Seal under the per-subject key of the key's own text."""
    entity_types: tuple[str, ...]
    category: str
    sensitivity: str
    score: float
    pad_to: int
    """The topology's padding bucket for an encrypted key."""


def plan_record_key(
    findings: tuple[Finding, ...], *, topology: Topology, taxonomy: Taxonomy
) -> KeyPlan | None:
    """The plan for a key with these findings; ``None`` when it is left as it is."""
    if not findings:
        return None
    entity_types = tuple(dict.fromkeys(f.entity_type for f in findings))
    category, sensitivity = taxonomy.classify_all(entity_types)
    policy = topology.policy
    if sensitivity.rank < policy.min_sensitivity.rank:
        return None
    rule = policy_rule(entity_types, category, policy)
    name = rule.action if rule.action in KEY_ACTIONS else "hash"
    encrypt = name == "encrypt"
    return KeyPlan(
        action=name, params={**rule.params, "deterministic": True} if encrypt else {},
        subject=encrypt and topology.subject is not None, entity_types=entity_types,
        category=category.value, sensitivity=sensitivity.value,
        score=max(f.score for f in findings), pad_to=topology.encryption.pad_to,
    )


def apply_key_plan(
    key: str, plan: KeyPlan, *, topology: str, cipher: FieldCipher
) -> tuple[str, FieldAction]:
    """The protected key and the action taken (never the value)."""
    ctx = ActionContext(
        topology=topology, path=KEY_PATH, entity_type=plan.entity_types[0], cipher=cipher,
        params=plan.params, subject=key if plan.subject else None, category=plan.category,
        pad_to=plan.pad_to,
    )
    outcome = get_action(plan.action).apply(key, ctx)
    action = FieldAction(
        path=KEY_PATH, action=plan.action, mode="field", entity_types=plan.entity_types,
        category=plan.category, sensitivity=plan.sensitivity, source="policy",
        key_id=outcome.key_id, score=plan.score,
    )
    return str(outcome.value), action
