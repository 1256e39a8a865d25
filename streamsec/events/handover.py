"""Crash handover: find the chains a dead writer left open on the partitions we now own.

When a worker is assigned a source partition, the previous writer of that
partition either closed its chain (final checkpoint, on revoke or shutdown) or
died (``kill -9``, OOM, lost host). :class:`OpenChains` reads the audit trail and
names, per open chain of the topology and partitions, the last event it can see;
the new owner then writes a signed handover record for each
(:meth:`streamsec.pipeline.pipeline.RecordPipeline.handover`). Pure: the agent
reads the topic (``streamsec.worker.agents``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from streamsec.events.entries import Entry, Signed, read_raw

__all__ = ["OpenChain", "OpenChains", "chain_scope"]


class _NoKeys:
    def key(self, key_id: str, writer: str | None = None) -> Ed25519PublicKey | None:
        return None


@dataclass(frozen=True, slots=True)
class OpenChain:
    chain: str
    last_seq: int
    last_digest: str
    stream: str | None = None
    """The dead writer's digest chain (from the chain's checkpoints), when seen."""


def chain_scope(chain: str) -> tuple[str, int] | None:
    """``(scope, partition)`` of a chain id ``<writer>/<scope>/<partition>/<run>``."""
    parts = chain.rsplit("/", 3)
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


class OpenChains:
    """Feed the audit events as read; :meth:`result` names the open chains."""

    def __init__(self, scope: str, partitions: Iterable[int]) -> None:
        self.scope = scope
        self.partitions = set(partitions)
        self._last: dict[str, Entry] = {}
        self._closed: set[str] = set()
        self._streams: dict[str, str] = {}
        self._position = 0

    def _ours(self, chain: str | None) -> bool:
        where = chain_scope(chain) if chain else None
        return where is not None and where[0] == self.scope and where[1] in self.partitions

    def feed(self, raw: bytes | None) -> None:
        if raw is None:
            return
        self._position += 1
        entry = read_raw(self._position, raw, _NoKeys())
        if isinstance(entry, Signed):
            chain = entry.data.get("chain")
            if entry.kind.endswith(".abandoned") and isinstance(chain, str):
                self._closed.add(chain)
            return
        if entry is None or not entry.digest_ok or entry.seq is None or entry.digest is None:
            return
        if not self._ours(entry.chain):
            return
        assert entry.chain is not None
        if entry.final:
            self._closed.add(entry.chain)
        if entry.stream is not None:
            self._streams[entry.chain] = entry.stream
        held = self._last.get(entry.chain)
        if held is None or (held.seq or 0) < entry.seq:
            self._last[entry.chain] = entry

    def result(self, exclude: Iterable[str] = ()) -> list[OpenChain]:
        """Chains of our scope and partitions with neither a final checkpoint nor a
        handover, but for ``exclude`` (the chains this process writes)."""
        skip = self._closed | set(exclude)
        return [
            OpenChain(chain, e.seq or 0, e.digest or "", self._streams.get(chain))
            for chain, e in sorted(self._last.items())
            if chain not in skip
        ]
