"""The one owner of audit chains: :class:`AuditTrail`.

Every producer of audit events seals them through an :class:`AuditTrail`: the
worker's pipeline (one chain per source partition), ``streamsec protect`` (the same
pipeline over files), role consumers, the decrypt command, key-lifecycle commands
and key providers (one chain, ``partition=None``). It holds the actor's
:class:`~streamsec.events.signing.AuditIdentity`: its own Ed25519 signing key
(never a data key; an HSM-held one plugs in as an
:class:`~streamsec.events.signing.AuditSigner`) and the audit pseudonym key.

* :meth:`AuditTrail.seal` hash-chains events; :meth:`AuditTrail.checkpoints` signs
  every chain touched since the last call (once per delivered batch), so no
  delivered event stays unsigned; :meth:`AuditTrail.sign` does both (tools);
* :meth:`AuditTrail.digest` is the actor's signed digest of the chain heads the
  broker acknowledged (:meth:`AuditTrail.batch_delivered`), at an interval and, with
  :meth:`AuditTrail.close`, at the end;
* :meth:`AuditTrail.handover` closes a dead writer's chain; :meth:`AuditTrail.abandon`
  closes this actor's own chains whose tail a transaction abort took back.

A closed chain is replaced by a new one (a new chain id) on the next event: a
partition revoked and assigned again, a tool that seals again after closing.

Not thread-safe: one owner calls it from one thread.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streamsec.events.chain import AuditChain, ChainMark, Records
from streamsec.events.digests import ChainHead, DigestWriter, abandoned
from streamsec.events.signing import AuditIdentity, Pseudonymizer

if TYPE_CHECKING:
    from streamsec.settings import Settings

__all__ = ["AuditTrail", "TrailMark"]

Event = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TrailMark:
    """Where every chain of a trail was (see :meth:`AuditTrail.mark`)."""

    chains: dict[int | None, tuple[AuditChain, ChainMark]]
    touched: frozenset[int | None]


class AuditTrail:
    """Signed audit chains of one actor, one per partition, and its digest chain."""

    def __init__(
        self, identity: AuditIdentity, *, actor: str, topology: str,
        digest_interval: float = 60.0, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.topology = topology
        self.actor = actor
        self.pseudonyms: Pseudonymizer = identity.pseudonyms
        self._signer = identity.signer
        self._chains: dict[int | None, AuditChain] = {}
        self._touched: set[int | None] = set()
        self._inflight: deque[dict[str, tuple[int | None, ChainHead]]] = deque(maxlen=64)
        self.delivered: dict[str, tuple[int | None, ChainHead]] = {}
        """Chain id -> (partition, head) of what the broker has acknowledged."""
        self._digests = DigestWriter(self._signer, worker_id=actor, scope=topology)
        self._interval = digest_interval
        self._clock = clock
        self._next_digest = clock() + digest_interval

    @classmethod
    def open(
        cls, settings: Settings, topology: str, *, actor: str, **kwargs: Any
    ) -> AuditTrail:
        """The trail of ``actor`` over the signing and pseudonym keys the settings name
        (``STREAMSEC_AUDIT_SIGNING_KEY``, ``STREAMSEC_AUDIT_PSEUDONYM_KEY``)."""
        kwargs.setdefault("digest_interval", settings.audit_digest_interval)
        return cls(AuditIdentity.from_settings(settings), actor=actor, topology=topology,
                   **kwargs)

    def __repr__(self) -> str:
        return (
            f"AuditTrail(topology={self.topology!r}, actor={self.actor!r}, "
            f"chains={len(self._chains)}, signer={self._signer.key_id})"
        )

    @property
    def stream(self) -> str:
        """This actor's digest chain."""
        return self._digests.stream

    @property
    def live_chains(self) -> set[str]:
        """Ids of the chains this actor is writing now."""
        return {c.chain_id for c in self._chains.values()}

    def _chain(self, partition: int | None) -> AuditChain:
        chain = self._chains.get(partition)
        if chain is None or chain.closed:
            chain = self._chains[partition] = AuditChain(
                self._signer, worker_id=self.actor, scope=self.topology,
                partition=partition, stream=self._digests.stream,
            )
        self._touched.add(partition)
        return chain

    def seal(self, events: Sequence[Event], partition: int | None = None) -> list[Event]:
        """``events`` chained on ``partition``'s chain, in order (signed by the next
        :meth:`checkpoints`)."""
        chain = self._chain(partition)
        out: list[Event] = []
        for event in events:
            out.extend(chain.append(event))
        return out

    def seal_batch(
        self, event: Event, records: Records, partition: int | None = None
    ) -> list[Event]:
        """A batch event (:mod:`streamsec.events.batch`) chained on ``partition``'s
        chain; its entries' ``records`` (offsets, digests) are signed by the next
        checkpoint."""
        return self._chain(partition).append(event, records)

    def mark(self) -> TrailMark:
        """Every chain's position (see :meth:`rollback`)."""
        return TrailMark(
            {p: (c, c.mark()) for p, c in self._chains.items()}, frozenset(self._touched)
        )

    def rollback(self, mark: TrailMark) -> None:
        """Forget what was sealed since ``mark`` (events that will never be sent): a
        chain started since is dropped, the others go back to where they were."""
        self._chains = {p: chain for p, (chain, _) in mark.chains.items()}
        for chain, position in mark.chains.values():
            chain.rollback(position)
        self._touched = set(mark.touched)

    def checkpoints(self) -> list[Event]:
        """A signed checkpoint for every chain touched since the last call (send it with
        the batch, after the batch's events)."""
        out: list[Event] = []
        heads: dict[str, tuple[int | None, ChainHead]] = {}
        for partition in sorted(self._touched, key=lambda p: -1 if p is None else p):
            chain = self._chains.get(partition)
            checkpoint = chain.checkpoint() if chain is not None and not chain.closed else None
            if checkpoint is not None:
                out.append(checkpoint)
                heads[checkpoint["chain"]] = (
                    partition, ChainHead(checkpoint["seq"], checkpoint["digest"])
                )
        self._touched.clear()
        self._inflight.append(heads)
        return out

    def sign(self, events: Sequence[Event], partition: int | None = None) -> list[Event]:
        """:meth:`seal` then :meth:`checkpoints`: ``events`` and their signature (tools
        that send as they go; the heads count as delivered once sent)."""
        out = [*self.seal(events, partition), *self.checkpoints()]
        self.batch_delivered()
        return out

    def batch_delivered(self, failed: Iterable[int | None] = ()) -> None:
        """The oldest batch in flight was acknowledged (but for ``failed`` partitions)."""
        if not self._inflight:
            return
        skip = set(failed)
        for chain, (partition, head) in self._inflight.popleft().items():
            held = self.delivered.get(chain)
            if partition not in skip and (held is None or held[1].last_seq < head.last_seq):
                self.delivered[chain] = (partition, head)

    def digest_due(self) -> bool:
        return not self._digests.closed and self._clock() >= self._next_digest

    def digest(self, *, final: bool = False) -> list[Event]:
        """The actor's next signed digest of its delivered chain heads."""
        self._next_digest = self._clock() + self._interval
        if self._digests.closed:
            return []
        heads = {chain: head for chain, (_p, head) in self.delivered.items()}
        return [self._digests.digest(heads, final=final)]

    def close(self, partitions: Iterable[int | None] | None = None) -> list[Event]:
        """Final checkpoints of the chains of ``partitions``, which end; with no
        ``partitions`` every chain, then the actor's final signed digest."""
        wanted = list(self._chains) if partitions is None else list(partitions)
        out: list[Event] = []
        for partition in wanted:
            chain = self._chains.pop(partition, None)
            self._touched.discard(partition)
            if chain is not None and not chain.closed and chain.next_seq:
                final = chain.close()
                out.append(final)
                self.delivered[final["chain"]] = (
                    partition, ChainHead(final["seq"], final["digest"], final=True)
                )
        if partitions is None and self.delivered:
            out += self.digest(final=True)
        return out

    def handover(
        self, chain: str, last_seq: int, last_digest: str, *, reason: str = "writer gone",
        stream: str | None = None,
    ) -> Event:
        """A signed record closing ``chain`` (its writer's digest chain ``stream``) at
        ``last_seq``, the last event this actor can see."""
        return abandoned(
            self._signer, worker_id=self.actor, chain=chain, last_seq=last_seq,
            last_digest=last_digest, reason=reason, stream=stream,
        )

    def abandon(self, partitions: Iterable[int | None]) -> list[Event]:
        """Chains whose last events were not delivered (an aborted transaction): each
        ends where delivery stopped, closed by a signed handover record; the next event
        starts a new chain."""
        out: list[Event] = []
        for partition in partitions:
            chain = self._chains.pop(partition, None)
            self._touched.discard(partition)
            held = self.delivered.get(chain.chain_id) if chain is not None else None
            if chain is not None and held is not None:
                out.append(self.handover(
                    chain.chain_id, held[1].last_seq, held[1].last_digest,
                    reason="transaction aborted", stream=self.stream,
                ))
        return out
