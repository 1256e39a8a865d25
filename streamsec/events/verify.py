"""Verify the audit trail with public keys only: per chain, every problem and its seq.

Input: events in read order (a topic or a JSON Lines file), chains interleaved.
Every event's ``digest`` is recomputed. What makes the trail trustworthy is what
a writer *signed* (keys from the trust store):

* a checkpoint names the digest of every event since the previous one, and the
  chain head (``prev``); so each event a checkpoint covers is authentic exactly
  when its digest is the one signed;
* a digest (per writer run, linked ``dseq`` 0, 1, ...) names each chain's head;
  a chain it names must be present up to that seq, with that digest;
* a handover record closes a chain whose writer died, at the last event its
  successor could see.

Reasons, reported per chain at the seq where they occur (the first one decides):

``modified``       content differs from its digest or from what the writer signed.
``bad_signature``  a checkpoint, digest or handover record whose signature does not
                   verify under a certified key (a forged or invented chain).
``inserted``       an event the writer never signed at that position; after a final
                   checkpoint or a handover; a chain no event of which is signed.
``deleted``        a position the writer signed (or a whole chain a digest names)
                   has no event; a missing digest in a writer's digest chain.
``reordered``      events of one chain read out of seq order.
``replayed``       an old event read again at a new position. An exact redelivery
                   (a run of events read again up to where the chain had got, as an
                   at-least-once retry produces) is counted, not a problem.
``truncated``      the chain ends without a final checkpoint or a handover record.
``empty``          no audit events, or no signed digest at all.

A chain closed by a handover verifies as *abandoned at seq N*: the events after
its writer's last signed checkpoint are attested by the successor only (counted
in ``unsigned``). ``allow_open`` accepts chains still being written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from streamsec.events.canonical import genesis
from streamsec.events.chain import PREFIX_LEN
from streamsec.events.digests import DIGEST_DOMAIN
from streamsec.events.entries import (
    Entry,
    KeyLookup,
    Signed,
    fill_records,
    read_entry,
    read_raw,
)
from streamsec.events.verify_chain import ChainCheck, ChainData, as_int, missing_digests
from streamsec.events.verify_report import ChainStatus, Problem, Reason, VerifyReport

__all__ = ["AuditVerifier", "ChainStatus", "Problem", "Reason", "VerifyReport", "verify"]

UNKNOWN_CHAIN = "?"


def verify(
    events: Iterable[Any],
    keys: KeyLookup,
    *,
    allow_open: bool = False,
    allow_expired_head: bool = False,
) -> VerifyReport:
    """Check every chain in ``events`` (dicts or raw bytes) against ``keys`` (a trust store)."""
    verifier = AuditVerifier(keys, allow_open=allow_open, allow_expired_head=allow_expired_head)
    for event in events:
        verifier.feed(event)
    return verifier.report()


class AuditVerifier:
    """Streaming form of :func:`verify`: :meth:`feed` events in read order, then :meth:`report`.

    Only a small record of each event is kept, never its data.
    ``allow_expired_head``: a chain may start after seq 0 (retention removed its head).
    """

    def __init__(
        self, keys: KeyLookup, *, allow_open: bool = False, allow_expired_head: bool = False
    ) -> None:
        self._keys = keys
        self._allow_open = allow_open
        self._allow_expired_head = allow_expired_head
        self._position = 0
        self._unreadable: list[int] = []
        self._reported = False
        self._chains: dict[str, ChainData] = defaultdict(ChainData)
        self._signed: list[Signed] = []
        self._unnamed: dict[str, list[Entry]] = defaultdict(list)
        """Batch events read on the fast path, per chain, until a checkpoint settles them."""

    def feed(self, event: Any) -> None:
        """One event as read: raw bytes/str (fast path) or a parsed JSON value."""
        if self._reported:
            raise RuntimeError("report() was already called")
        position = self._position
        self._position += 1
        if isinstance(event, str):
            event = event.encode("utf-8")
        if isinstance(event, bytes | bytearray):
            entry = read_raw(position, bytes(event), self._keys)
        elif isinstance(event, Mapping):
            entry = read_entry(position, event, self._keys)
        else:
            entry = None
        if entry is None:
            self._unreadable.append(position)
        elif isinstance(entry, Signed):
            self._signed.append(entry)
        else:
            self._add(entry)

    def _add(self, e: Entry) -> None:
        chain = self._chains[e.chain if e.chain is not None else UNKNOWN_CHAIN]
        if not e.digest_ok or e.seq is None or e.chain is None:
            fill_records(e)
            chain.broken.append(e)
            return
        held = chain.first.get(e.seq)
        if held is None:
            chain.first[e.seq] = e
            if e.raw is not None:
                self._unnamed[e.chain].append(e)
        elif held.digest == e.digest:
            chain.reads.append(e.seq)
            chain.dup_flags.append(1)
            return
        else:
            fill_records(e)
            chain.extra.append(e)
            return
        if e.checkpoint:
            chain.checkpoints.append(e)
            self._settle(e)
        chain.reads.append(e.seq)
        chain.dup_flags.append(0)

    def _settle(self, cp: Entry) -> None:
        """Batch events a validly signed checkpoint lists exactly as read need no record
        named in them (their bytes are dropped); the others are parsed for their
        entries, so that a changed, removed or moved one can be named."""
        waiting = self._unnamed.get(cp.chain or "")
        if not waiting or cp.seq is None:
            return
        start = cp.from_seq if cp.from_seq is not None else cp.seq
        keep: list[Entry] = []
        for e in waiting:
            seq = e.seq if e.seq is not None else -1
            if not start <= seq < cp.seq:
                keep.append(e)
                continue
            listed = cp.digests[seq - start] if seq - start < len(cp.digests) else None
            if cp.sig == "ok" and listed == (e.digest or "")[:PREFIX_LEN]:
                e.raw = None
            else:
                fill_records(e)
        self._unnamed[cp.chain or ""] = keep

    # -- the report ---------------------------------------------------------------------
    def report(self) -> VerifyReport:
        if self._reported:
            raise RuntimeError("report() was already called")
        self._reported = True
        for waiting in self._unnamed.values():
            for e in waiting:
                fill_records(e)
        self._unnamed.clear()
        trail: list[Problem] = []
        if not self._chains and not self._signed and not self._unreadable:
            trail.append(Problem("*", None, Reason.EMPTY, "no audit events at all"))
        named, abandons, extra, streams = self._signed_records(trail)
        digests = sum(len(v) for v in streams.values())
        if digests == 0 and (self._chains or self._signed):
            trail.append(Problem(
                "*", None, Reason.EMPTY,
                "no signed digest: nothing shows which chains should be here",
            ))
        names = sorted(set(self._chains) | set(named) | set(abandons) | set(extra))
        chains = tuple(
            ChainCheck(
                name, self._chains.get(name) or ChainData(), named.get(name, []),
                abandons.get(name, []), extra.get(name, []),
                allow_open=self._allow_open, allow_expired_head=self._allow_expired_head,
            ).status()
            for name in names
        )
        self._chains = defaultdict(ChainData)
        crashed = {c.stream for c in chains if c.abandoned_at is not None}
        crashed |= {s.data.get("stream") for ab in abandons.values() for s in ab}
        for stream, by_dseq in sorted(streams.items()):
            last = by_dseq[max(by_dseq)]
            ended = last.data.get("final") is True or stream in crashed
            if not ended and not self._allow_open:
                trail.append(Problem(
                    f"digest {stream}", max(by_dseq) + 1, Reason.TRUNCATED,
                    "the writer's digests end without a final digest, and no handover "
                    "shows that it died", last.position,
                ))
        if not self._allow_open:
            chains = tuple(missing_digests(c, streams, crashed) for c in chains)
        return VerifyReport(chains, tuple(self._unreadable), tuple(trail), digests)

    def _signed_records(
        self, trail: list[Problem]
    ) -> tuple[
        dict[str, list[tuple[int, str, bool, Signed]]],
        dict[str, list[Signed]], dict[str, list[Problem]], dict[str, dict[int, Signed]],
    ]:
        named: dict[str, list[tuple[int, str, bool, Signed]]] = defaultdict(list)
        abandons: dict[str, list[Signed]] = defaultdict(list)
        extra: dict[str, list[Problem]] = defaultdict(list)
        streams: dict[str, dict[int, Signed]] = defaultdict(dict)
        for s in self._signed:
            if s.kind.endswith(".abandoned"):
                chain = str(s.data.get("chain", UNKNOWN_CHAIN))
                if s.sig == "ok":
                    abandons[chain].append(s)
                else:
                    extra[chain].append(Problem(
                        chain, as_int(s.data.get("last_seq")), Reason.BAD_SIGNATURE,
                        f"handover record: {s.sig}", s.position,
                    ))
                continue
            stream = s.subject or "?"
            if s.sig != "ok":
                trail.append(Problem(f"digest {stream}", as_int(s.data.get("dseq")),
                                     Reason.BAD_SIGNATURE, f"digest: {s.sig}", s.position))
                continue
            dseq = as_int(s.data.get("dseq"))
            if dseq is None:
                continue
            held = streams[stream].get(dseq)
            if held is not None and held.digest != s.digest:
                trail.append(Problem(f"digest {stream}", dseq, Reason.INSERTED,
                                     "two different signed digests", s.position))
                continue
            streams[stream][dseq] = s
            heads = s.data.get("chains")
            for chain, head in (heads.items() if isinstance(heads, Mapping) else ()):
                seq = as_int(head.get("last_seq")) if isinstance(head, Mapping) else None
                digest = head.get("last_digest") if isinstance(head, Mapping) else None
                if seq is not None and isinstance(digest, str):
                    named[str(chain)].append((seq, digest, head.get("final") is True, s))
        for stream, by_dseq in streams.items():
            trail.extend(self._digest_chain(stream, by_dseq))
        return named, abandons, extra, streams

    def _digest_chain(self, stream: str, by_dseq: dict[int, Signed]) -> list[Problem]:
        name = f"digest {stream}"
        start = min(by_dseq) if self._allow_expired_head else 0
        before = genesis(DIGEST_DOMAIN + stream)
        for dseq in range(start, max(by_dseq) + 1):
            s = by_dseq.get(dseq)
            if s is None:
                return [Problem(name, dseq, Reason.DELETED, "a signed digest is missing")]
            if s.data.get("dprev") != before and not (dseq == start and start > 0):
                return [Problem(name, dseq, Reason.INSERTED,
                                "does not link to the digest before it", s.position)]
            before = s.digest or ""
        return []


