"""The Kafka record key, planned like any field and protected from the key alone.

A key is detected and classified as one value at the path ``$key``; the topology's
policy picks its action exactly as for a field (``EMAIL_ADDRESS: hash`` hashes an
e-mail record key). Two rules keep keys usable as keys:

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

from typing import Final

from streamsec.actions.base import ActionContext, get_action
from streamsec.classification.model import Finding
from streamsec.classification.taxonomy import Taxonomy
from streamsec.crypto.base import FieldCipher
from streamsec.protection.planner import policy_rule
from streamsec.protection.result import FieldAction
from streamsec.topology.model import Topology

__all__ = ["KEY_ACTIONS", "KEY_PATH", "protect_record_key"]

KEY_PATH: Final = "$key"
KEY_ACTIONS: Final = frozenset({"encrypt", "hash", "keep"})
"""Actions that keep keys distinct; any other becomes ``hash`` on a key."""


def protect_record_key(
    key: str, findings: tuple[Finding, ...], *, topology: Topology, taxonomy: Taxonomy,
    cipher: FieldCipher,
) -> tuple[str, FieldAction | None]:
    """``key`` protected per the topology's policy, and the action taken (if any)."""
    if not findings:
        return key, None
    entity_types = tuple(dict.fromkeys(f.entity_type for f in findings))
    category, sensitivity = taxonomy.classify_all(entity_types)
    policy = topology.policy
    if sensitivity.rank < policy.min_sensitivity.rank:
        return key, None
    rule = policy_rule(entity_types, category, policy)
    name = rule.action if rule.action in KEY_ACTIONS else "hash"
    params = {**rule.params, "deterministic": True} if name == "encrypt" else {}
    ctx = ActionContext(
        topology=topology.name, path=KEY_PATH, entity_type=entity_types[0], cipher=cipher,
        params=params, subject=key if topology.subject and name == "encrypt" else None,
        category=category.value,
        pad_to=topology.encryption.pad_to,
    )
    outcome = get_action(name).apply(key, ctx)
    action = FieldAction(
        path=KEY_PATH, action=name, mode="field", entity_types=entity_types,
        category=category.value, sensitivity=sensitivity.value, source="policy",
        key_id=outcome.key_id, score=max(f.score for f in findings),
    )
    return str(outcome.value), action
