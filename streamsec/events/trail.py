"""The one owner of audit chains: :class:`AuditTrail`.

Every producer of audit events seals them through an :class:`AuditTrail`: the
worker's pipeline (one chain per source partition), ``streamsec protect`` (the same
pipeline over files), role consumers and the key-lifecycle commands (one chain,
``partition=None``). It holds the topology's audit key (purpose ``audit``, owner =
the topology name), so ``streamsec audit verify`` checks every chain with the same
keyring, and the :class:`~streamsec.events.audit.Pseudonymizer` under that key.

A closed chain is replaced by a new one (a new chain id) on the next event: a
partition revoked and assigned again, a tool that seals again after closing.

Not thread-safe: one owner calls it from one thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from streamsec.crypto.keys import KeyPurpose
from streamsec.crypto.provider import KeyProvider
from streamsec.events.audit import Pseudonymizer
from streamsec.events.chain import DEFAULT_CHECKPOINT_EVERY, AuditChain

__all__ = ["AuditTrail"]

Event = dict[str, Any]


class AuditTrail:
    """Audit chains of one actor under one audit key, one per partition."""

    def __init__(
        self, audit_key: bytes, *, key_id: str, actor: str, topology: str,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    ) -> None:
        self.topology = topology
        self.actor = actor
        self.pseudonyms = Pseudonymizer(audit_key)
        self._key = audit_key
        self._key_id = key_id
        self._checkpoint_every = checkpoint_every
        self._chains: dict[int | None, AuditChain] = {}

    @classmethod
    def for_topology(
        cls, provider: KeyProvider, topology: str, *, actor: str,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    ) -> AuditTrail:
        """The trail under ``topology``'s current audit key (raises when it has none)."""
        key = provider.current_key(topology, KeyPurpose.AUDIT)
        return cls(
            key.material, key_id=key.id, actor=actor, topology=topology,
            checkpoint_every=checkpoint_every,
        )

    def __repr__(self) -> str:
        return (
            f"AuditTrail(topology={self.topology!r}, actor={self.actor!r}, "
            f"chains={len(self._chains)})"
        )

    def _chain(self, partition: int | None) -> AuditChain:
        chain = self._chains.get(partition)
        if chain is None or chain.closed:
            chain = self._chains[partition] = AuditChain(
                self._key, key_id=self._key_id, worker_id=self.actor,
                partition=partition, checkpoint_every=self._checkpoint_every,
            )
        return chain

    def seal(self, events: Sequence[Event], partition: int | None = None) -> list[Event]:
        """Sealed ``events`` (and any checkpoint now due) on ``partition``'s chain, in order."""
        chain = self._chain(partition)
        out: list[Event] = []
        for event in events:
            out.extend(chain.append(event))
        return out

    def close(self, partitions: Iterable[int | None] | None = None) -> list[Event]:
        """Final checkpoints of the chains of ``partitions`` (default: all), which end."""
        wanted = list(self._chains) if partitions is None else list(partitions)
        out: list[Event] = []
        for partition in wanted:
            chain = self._chains.pop(partition, None)
            if chain is not None and not chain.closed:
                out.append(chain.close())
        return out

    def abandon(self, partitions: Iterable[int | None]) -> None:
        """Forget chains whose last events were not delivered (an aborted transaction):
        they read as truncated, and the next event starts a new chain."""
        for partition in partitions:
            self._chains.pop(partition, None)
