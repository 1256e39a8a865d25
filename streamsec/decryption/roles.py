"""Which encrypted fields a consumer role may decrypt. Pure; fails closed.

A topology's ``roles:`` grant each role ``paths``, ``categories`` and ``entities``
(:class:`~streamsec.topology.model.RoleGrant`). For one encrypted field, in order:

1. **path**: a granted path covers the field itself or any field under it
   (``card`` covers ``card.number``; ``orders[*].card`` covers every item's card).
2. **field rule**: when the topology's most specific ``fields:`` rule covering the
   field names an ``entity``, the field is that entity: allowed when the role is
   granted the entity or its category (taxonomy with the topology's overrides);
   denied otherwise.
3. **key**: any other field (found by detection) is allowed when every key that
   sealed it is wrapped by the KEK of a category the role is granted (topologies
   with ``key_separation: category``; the key store authenticates this label).
4. otherwise denied: a field stays encrypted.

Record headers never grant anything: they are written by whoever produced the
record. And this is only the client's courtesy: under key separation, the KEK
provider (HSM, Vault, KMS) refuses to release another category's keys anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from streamsec.classification.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from streamsec.errors import ConfigError
from streamsec.records.paths import Segment, parse_path
from streamsec.topology.model import FieldRule, Topology

__all__ = ["Access", "Basis", "RoleAccess"]

Basis = Literal["path", "entity", "category", "key", "none"]


@dataclass(frozen=True, slots=True)
class Access:
    allowed: bool
    basis: Basis


_DENIED = Access(False, "none")


def _covers(pattern: tuple[Segment, ...], path: tuple[Segment, ...]) -> bool:
    return len(pattern) <= len(path) and all(a == b for a, b in zip(pattern, path, strict=False))


class RoleAccess:
    """The decryption rights of one role of one topology."""

    def __init__(self, topology: Topology, role: str, *, taxonomy: Taxonomy | None = None) -> None:
        grant = topology.roles.get(role)
        if grant is None:
            raise ConfigError(
                f"the topology defines no role {role!r}; known: {sorted(topology.roles)}",
                key="roles",
            )
        self.role = role
        self.topology = topology
        self.taxonomy = (taxonomy or DEFAULT_TAXONOMY).with_overrides(topology.classification)
        self._paths = [parse_path(p) for p in grant.paths]
        self._categories = frozenset(str(c) for c in grant.categories)
        self._entities = frozenset(grant.entities)
        self._rules: list[tuple[tuple[Segment, ...], FieldRule]] = [
            (pattern, rule) for pattern, _, rule in topology.field_patterns()
        ]
        self._cache: dict[str, tuple[Access | None, str | None]] = {}

    def __repr__(self) -> str:
        return f"RoleAccess(role={self.role!r})"

    def entity_granted(self, entity: str) -> Access:
        if entity in self._entities:
            return Access(True, "entity")
        category, _ = self.taxonomy.classify(entity)
        if str(category) in self._categories:
            return Access(True, "category")
        return _DENIED

    def _static(self, path: str) -> tuple[Access | None, str | None]:
        """(decision by path grant, entity of the covering field rule) for one path."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        try:
            segments = parse_path(path)
        except ValueError:
            return None, None
        by_path = Access(True, "path") if any(_covers(p, segments) for p in self._paths) else None
        entity = next((r.entity for p, r in self._rules if _covers(p, segments)), None)
        if len(self._cache) < 10_000:
            self._cache[path] = (by_path, entity)
        return by_path, entity

    def decide(self, path: str, keks: frozenset[str] = frozenset()) -> Access:
        """May this role decrypt the encrypted field at ``path``, sealed under keys
        wrapped by the KEKs named ``keks``?"""
        by_path, entity = self._static(path)
        if by_path is not None:
            return by_path
        if entity is not None:
            return self.entity_granted(entity)
        granted = {c.lower() for c in self._categories}
        if keks and all(k in granted for k in keks):
            return Access(True, "key")
        return _DENIED
