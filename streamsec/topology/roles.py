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
   with ``key_separation: category``), or, under ``key_separation: role``, when the
   role is a reader of every such key (the key store authenticates both labels).
4. otherwise denied: a field stays encrypted.

The role ``all`` (reserved: no topology may define it) is granted everything; what
it reads is whatever the caller's KEKs release.

:class:`ReaderSets` makes the same decision at protect time, for every role at
once, from the worker's own classification of the field (its path, the entity its
rule names or detection found, its category): the field's data key is then wrapped
for exactly those roles (:mod:`streamsec.crypto.readers`).

Record headers never grant anything: they are written by whoever produced the
record. And this is only the client's courtesy: under key separation, the KEK
provider (HSM, Vault, KMS) refuses to release another category's or role's keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from streamsec.classification.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from streamsec.errors import ConfigError
from streamsec.records.paths import Segment, parse_path
from streamsec.topology.model import FieldRule, RoleGrant, Topology

__all__ = ["ALL_ROLES", "Access", "Basis", "ReaderSets", "RoleAccess"]

Basis = Literal["path", "entity", "category", "key", "all", "none"]
ALL_ROLES = "all"
"""The role that is granted every field: ``streamsec decrypt --as all``."""


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
        if grant is None and role != ALL_ROLES:
            raise ConfigError(
                f"topology {topology.name!r} defines no role {role!r}; known: "
                f"{', '.join(sorted(topology.roles)) or 'none'} (or 'all')",
                key="roles",
            )
        self.everything = grant is None
        grant = grant or RoleGrant()
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

    def decide(
        self, path: str, keks: frozenset[str] = frozenset(),
        readers: frozenset[str] | None = None,
    ) -> Access:
        """May this role decrypt the encrypted field at ``path``, sealed under keys
        wrapped by the KEKs named ``keks`` (``readers``: the roles that are readers of
        every one of those keys, under role separation)?"""
        if self.everything:
            return Access(True, "all")
        by_path, entity = self._static(path)
        if by_path is not None:
            return by_path
        if entity is not None:
            return self.entity_granted(entity)
        if readers is not None and self.role in readers:
            return Access(True, "key")
        granted = {c.lower() for c in self._categories}
        if keks and all(k in granted for k in keks):
            return Access(True, "key")
        return _DENIED

    def grants(self, path: str, category: str | None, entity: str | None) -> bool:
        """Protect time: is this role a reader of a field the worker classified so
        (``entity`` from its rule or detection, ``category`` from its taxonomy)? The
        same decision :meth:`decide` makes at read time, never from a header."""
        if self.everything:
            return True
        by_path, rule_entity = self._static(path)
        if by_path is not None:
            return True
        if rule_entity is not None or entity is not None:
            if self.entity_granted(rule_entity or str(entity)).allowed:
                return True
            if rule_entity is not None:
                return False  # the topology names the field's entity: nothing else counts
        return category is not None and category in self._categories


class ReaderSets:
    """The roles that may read a field, decided once per (path, category, entity)."""

    def __init__(self, topology: Topology, *, taxonomy: Taxonomy | None = None) -> None:
        self._roles = [RoleAccess(topology, r, taxonomy=taxonomy) for r in sorted(topology.roles)]
        self._cache: dict[tuple[str, str | None, str | None], frozenset[str]] = {}

    def readers(self, path: str, category: str | None, entity: str | None) -> frozenset[str]:
        key = (path, category, entity)
        found = self._cache.get(key)
        if found is None:
            found = frozenset(a.role for a in self._roles if a.grants(path, category, entity))
            if len(self._cache) < 10_000:
                self._cache[key] = found
        return found
