"""Signed digests and handover records: what lets a verifier see what is *missing*.

A chain's own checkpoints prove that what is present is authentic; they cannot
prove that nothing was removed. In the manner of CloudTrail's digest files:

* :class:`DigestWriter` - at a fixed interval and at shutdown, a writer emits an
  ``io.streamsec.audit.digest`` event, signed with its key. It names every chain
  whose head moved since the previous digest, with that head (``last_seq``,
  ``last_digest``) as *delivered*, and links to the writer's previous digest
  (``dseq`` 0, 1, 2, ...; ``dprev`` = its digest). Deleting a chain, cutting its
  tail or replacing it is then visible at the seq the digest names; deleting a
  digest breaks the digest chain.
* :func:`abandoned` - an ``io.streamsec.audit.abandoned`` record, signed by the
  writer that takes over a partition whose previous writer died (or by a writer
  whose transaction was fenced): "chain C ends at seq N, digest D, the last event
  I can see", and the dead writer's digest chain (``stream``). The chain then
  verifies as *abandoned*, not tampered; an event after seq N is flagged; and the
  dead writer's digest chain may end without a final digest.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from streamsec.events.canonical import compute_digest, genesis
from streamsec.events.chain import sign_event
from streamsec.events.cloudevents import EventType, new_event, worker_source
from streamsec.events.signing import AuditSigner

__all__ = ["DIGEST_DOMAIN", "ChainHead", "DigestWriter", "abandoned"]

DIGEST_DOMAIN: Final = "digest:"


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last delivered event of one chain."""

    last_seq: int
    last_digest: str
    final: bool = False

    def as_data(self) -> dict[str, Any]:
        return {"last_seq": self.last_seq, "last_digest": self.last_digest, "final": self.final}


class DigestWriter:
    """The digest chain of one writer and scope (one per worker run and topology)."""

    def __init__(
        self, signer: AuditSigner, *, worker_id: str, scope: str, run: str | None = None
    ) -> None:
        self._signer = signer
        self.worker_id = worker_id
        self.scope = scope
        self.run = run if run is not None else uuid.uuid4().hex[:16]
        self.stream = f"{worker_id}/{scope}/{self.run}"
        self._dseq = 0
        self._dprev = genesis(DIGEST_DOMAIN + self.stream)
        self._reported: dict[str, ChainHead] = {}
        self.closed = False

    def digest(
        self, heads: Mapping[str, ChainHead], *, final: bool = False, time: datetime | None = None
    ) -> dict[str, Any]:
        """The next signed digest: every chain of ``heads`` that moved since the last."""
        if self.closed:
            raise RuntimeError("the digest chain is closed")
        moved = {c: h for c, h in heads.items() if self._reported.get(c) != h}
        data = {
            "worker": self.worker_id,
            "scope": self.scope,
            "run": self.run,
            "dseq": self._dseq,
            "dprev": self._dprev,
            "chains": {c: h.as_data() for c, h in sorted(moved.items())},
            "final": final,
            "signer": self._signer.key_id,
        }
        event = new_event(
            EventType.AUDIT_DIGEST, source=worker_source(self.worker_id),
            subject=self.stream, data=data, time=time,
        )
        event["digest"] = compute_digest(event)
        sign_event(self._signer, event)
        self._reported.update(moved)
        self._dseq += 1
        self._dprev = event["digest"]
        self.closed = final
        return event


def abandoned(
    signer: AuditSigner,
    *,
    worker_id: str,
    chain: str,
    last_seq: int,
    last_digest: str,
    reason: str,
    stream: str | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """A signed handover record: ``chain`` ends at ``last_seq`` (digest ``last_digest``)."""
    data = {
        "worker": worker_id,
        "chain": chain,
        "last_seq": last_seq,
        "last_digest": last_digest,
        "reason": reason,
        "stream": stream,
        "signer": signer.key_id,
    }
    event = new_event(
        EventType.AUDIT_ABANDONED, source=worker_source(worker_id), subject=chain,
        data=data, time=time,
    )
    event["digest"] = compute_digest(event)
    return sign_event(signer, event)
