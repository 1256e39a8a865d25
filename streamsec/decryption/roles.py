"""Which encrypted fields a consumer role may decrypt: :mod:`streamsec.topology.roles`
(kept there, beside the topology, because the worker decides reader sets with it too)."""

from __future__ import annotations

from streamsec.topology.roles import ALL_ROLES, Access, Basis, ReaderSets, RoleAccess

__all__ = ["ALL_ROLES", "Access", "Basis", "ReaderSets", "RoleAccess"]
