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

from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from itertools import pairwise
from typing import Any

from streamsec.events.canonical import genesis
from streamsec.events.digests import DIGEST_DOMAIN
from streamsec.events.entries import Entry, KeyLookup, Signed, read_entry, read_raw
from streamsec.events.verify_report import ChainStatus, Problem, Reason, VerifyReport

__all__ = ["AuditVerifier", "ChainStatus", "Problem", "Reason", "VerifyReport", "verify"]

UNKNOWN_CHAIN = "?"
_PRIORITY = {reason: rank for rank, reason in enumerate(Reason)}


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


class _Chain:
    __slots__ = ("broken", "checkpoints", "dup_flags", "dups", "extra", "first", "reads")

    def __init__(self) -> None:
        self.first: dict[int, Entry] = {}
        self.extra: list[Entry] = []
        self.broken: list[Entry] = []
        self.checkpoints: list[Entry] = []
        self.reads = array("q")
        self.dup_flags = bytearray()
        self.dups = 0


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
        self._chains: dict[str, _Chain] = defaultdict(_Chain)
        self._signed: list[Signed] = []

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
            chain.broken.append(e)
            return
        held = chain.first.get(e.seq)
        if held is None:
            chain.first[e.seq] = e
        elif held.digest == e.digest:
            chain.reads.append(e.seq)
            chain.dup_flags.append(1)
            return
        else:
            chain.extra.append(e)
            return
        if e.checkpoint:
            chain.checkpoints.append(e)
        chain.reads.append(e.seq)
        chain.dup_flags.append(0)

    # -- the report ---------------------------------------------------------------------
    def report(self) -> VerifyReport:
        if self._reported:
            raise RuntimeError("report() was already called")
        self._reported = True
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
            _ChainCheck(
                name, self._chains.get(name) or _Chain(), named.get(name, []),
                abandons.get(name, []), extra.get(name, []),
                allow_open=self._allow_open, allow_expired_head=self._allow_expired_head,
            ).status()
            for name in names
        )
        self._chains = defaultdict(_Chain)
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
            chains = tuple(_missing_digests(c, streams, crashed) for c in chains)
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
                        chain, _int(s.data.get("last_seq")), Reason.BAD_SIGNATURE,
                        f"handover record: {s.sig}", s.position,
                    ))
                continue
            stream = s.subject or "?"
            if s.sig != "ok":
                trail.append(Problem(f"digest {stream}", _int(s.data.get("dseq")),
                                     Reason.BAD_SIGNATURE, f"digest: {s.sig}", s.position))
                continue
            dseq = _int(s.data.get("dseq"))
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
                seq = _int(head.get("last_seq")) if isinstance(head, Mapping) else None
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


def _missing_digests(
    c: ChainStatus, streams: Mapping[str, object], crashed: set[Any]
) -> ChainStatus:
    """A chain whose writer's digest chain is absent: its digests were removed (unless
    the writer died before its first digest, which a handover shows)."""
    if c.stream is None or c.stream in streams or c.stream in crashed:
        return c
    problem = Problem(c.chain, c.last_checkpoint, Reason.DELETED,
                      f"every signed digest of its writer ({c.stream}) is missing")
    problems = sorted((*c.problems, problem),
                      key=lambda p: (2**62 if p.seq is None else p.seq, _PRIORITY[p.reason]))
    return replace(c, problems=tuple(problems))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _ChainCheck:
    """Every check of one chain, given what was read and what was signed about it."""

    def __init__(
        self, name: str, data: _Chain, named: list[tuple[int, str, bool, Signed]],
        abandons: list[Signed], extra: list[Problem], *, allow_open: bool,
        allow_expired_head: bool,
    ) -> None:
        self.name, self.c, self.named, self.abandons = name, data, named, abandons
        self.found = list(extra)
        self.allow_open, self.allow_expired_head = allow_open, allow_expired_head
        self.full: dict[int, tuple[str, str]] = {}
        """seq -> (digest, who signed it), from checkpoints, digests and handovers."""
        self.prefix: dict[int, str] = {}

    def add(self, seq: int | None, reason: Reason, detail: str, e: Entry | None = None) -> None:
        self.found.append(Problem(self.name, seq, reason, detail, e.position if e else None))

    def _expect(self, seq: int, digest: str, who: str) -> None:
        held = self.full.get(seq)
        if held is None:
            self.full[seq] = (digest, who)
        elif held[0] != digest:
            self.add(seq, Reason.MODIFIED, f"{who} names another digest than {held[1]}")

    def _signatures(self) -> tuple[int | None, int | None, str | None]:
        """Collect what the writer signed; (last signed seq, final seq, signer)."""
        last = final = None
        signer: str | None = None
        self.stream: str | None = None
        candidates = [*self.c.checkpoints, *(e for e in self.c.extra if e.checkpoint)]
        for cp in sorted(candidates, key=lambda e: (e.seq or 0, e.sig != "ok")):
            seq = cp.seq or 0
            if cp.sig != "ok":
                self.add(seq, Reason.BAD_SIGNATURE, f"checkpoint: {cp.sig}", cp)
                if last == seq:  # a forged copy beside the signed one
                    continue
                start = last + 1 if last is not None else 0
                if start < seq:
                    self.add(start, Reason.MODIFIED, f"seq {start} to {seq - 1}: no valid "
                             f"signature covers them (the checkpoint at seq {seq} is not valid)")
                continue
            if signer is not None and cp.signer != signer:
                self.add(seq, Reason.BAD_SIGNATURE, "checkpoint signed by another writer key", cp)
                continue
            signer = cp.signer
            self.stream = self.stream or cp.stream
            start = cp.from_seq if cp.from_seq is not None else seq
            if cp.count != seq or len(cp.digests) != seq - start:
                self.add(seq, Reason.MODIFIED, "checkpoint disagrees with the chain", cp)
                continue
            self._expect(seq, cp.digest or "", f"checkpoint {seq}")
            if seq:
                self._expect(seq - 1, cp.prev or "", f"checkpoint {seq}")
            for offset, p in enumerate(cp.digests):
                self.prefix.setdefault(start + offset, p)
            last = seq
            if cp.final and final is None:
                final = seq
        return last, final, signer

    def status(self) -> ChainStatus:
        c = self.c
        last_signed, final, signer = self._signatures()
        for seq, digest, _final, s in self.named:
            self._expect(seq, digest, f"digest {s.data.get('dseq')} of {s.worker}")
        handover = self.abandons[0] if self.abandons else None
        ab_seq = _int(handover.data.get("last_seq")) if handover else None
        if handover is not None and ab_seq is not None:
            who = f"handover by {handover.worker}"
            self._expect(ab_seq, str(handover.data.get("last_digest")), who)
        seqs = [*c.first, *self.full, *(e.seq for e in c.broken if e.seq is not None)]
        top = max(seqs) if seqs else -1
        if not c.first and not c.broken and self.full:
            first_named = min(self.full)
            self.add(first_named, Reason.DELETED,
                     f"the whole chain is missing ({self.full[first_named][1]} names it)")
        else:
            self._positions()
        end = final if final is not None else ab_seq
        if end is not None:
            why = "final checkpoint" if final is not None else "handover"
            for e in (*c.first.values(), *c.broken):
                if e.seq is not None and e.seq > end:
                    self.add(e.seq, Reason.INSERTED, f"after the chain's {why} at seq {end}", e)
        elif top >= 0 and (c.first or c.broken):
            if last_signed is None and not self.named:  # named by a digest: not invented
                self.add(min(c.first, default=0), Reason.INSERTED,
                         "no event of this chain is covered by a valid signature")
            if not self.allow_open:
                note = f"; last signed at seq {last_signed}" if last_signed is not None else ""
                self.add(top + 1, Reason.TRUNCATED, f"the chain ends at seq {top} without "
                         f"a final checkpoint or handover{note}")
        self._order()
        self.found.sort(key=lambda p: (2**62 if p.seq is None else p.seq, _PRIORITY[p.reason]))
        unsigned = 0
        if final is None and top >= 0:
            end_seq = ab_seq if ab_seq is not None else top
            unsigned = end_seq - (last_signed if last_signed is not None else -1)
        return ChainStatus(
            chain=self.name, events=len(c.first),
            last_seq=max(c.first) if c.first else None,
            closed=final is not None, last_checkpoint=last_signed, problems=tuple(self.found),
            abandoned_at=ab_seq if final is None else None,
            abandoned_by=handover.worker if handover and final is None else None,
            unsigned=max(unsigned, 0), duplicates=c.dups, signer=signer, stream=self.stream,
        )

    def _matches(self, e: Entry, seq: int) -> bool | None:
        """Whether ``e`` is what was signed at ``seq`` (``None``: nothing was)."""
        full = self.full.get(seq)
        if full is not None:
            return e.digest == full[0]
        prefix = self.prefix.get(seq)
        if prefix is not None:
            return (e.digest or "").startswith(prefix)
        return None

    def _positions(self) -> None:
        c = self.c
        extra: dict[int, list[Entry]] = defaultdict(list)
        for e in c.extra:
            extra[e.seq or 0].append(e)
        broken: dict[int, list[Entry]] = defaultdict(list)
        for e in c.broken:
            if e.seq is None:
                self.add(None, Reason.MODIFIED, "content differs from its digest", e)
            else:
                broken[e.seq].append(e)
        start = min(c.first) if self.allow_expired_head and c.first else 0
        before: str | None = genesis(self.name) if start == 0 else None
        prior: bool | None = None
        expected = start
        known = sorted(set(c.first) | set(self.full) | set(self.prefix) | set(broken))
        for seq in (s for s in known if s >= start):  # never a loop over a claimed range
            if seq > expected:
                gap = "missing" if seq == expected + 1 else f"missing, up to seq {seq - 1}"
                self.add(expected, Reason.DELETED, gap)
                before = None
            expected = seq + 1
            got = c.first.get(seq)
            if got is None:
                if seq in broken:
                    self.add(seq, Reason.MODIFIED, "content differs from its digest",
                             broken[seq][0])
                else:
                    self.add(seq, Reason.DELETED, "missing")
                before = None
                continue
            e = got
            ok = self._matches(e, seq)
            if ok is False:
                alts = [a for a in extra.get(seq, ()) if self._matches(a, seq)]
                if alts:
                    self.add(seq, Reason.INSERTED, "the writer signed another event here", e)
                    e = alts[0]
                else:
                    self.add(seq, Reason.MODIFIED, "differs from what the writer signed", e)
            elif ok is None:
                if extra.get(seq):
                    self.add(seq, Reason.INSERTED, "two different events claim it", extra[seq][0])
                if before is not None and e.prev != before:
                    self.add(seq, Reason.INSERTED, "does not follow the event before it", e)
            elif before is not None and e.prev != before and seq and prior is None:
                # signed here, so the event before is not the one the writer linked to
                self.add(seq - 1, Reason.MODIFIED, "differs from what the next event links to",
                         c.first.get(seq - 1))
            elif extra.get(seq):
                self.add(seq, Reason.INSERTED, "the writer signed another event here",
                         extra[seq][0])
            if seq in broken:
                self.add(seq, Reason.MODIFIED, "a modified copy of the event", broken[seq][0])
            before = e.digest
            prior = ok

    def _order(self) -> None:
        c = self.c
        firsts = [s for s, d in zip(c.reads, c.dup_flags, strict=True) if not d]
        moved = _out_of_order(firsts)
        if moved:
            seq = min(moved)
            self.add(seq, Reason.REORDERED, "read out of seq order", c.first.get(seq))
        highest = -1
        i, n = 0, len(c.reads)
        while i < n:
            if not c.dup_flags[i]:
                highest = max(highest, c.reads[i])
                i += 1
                continue
            j = i
            while j + 1 < n and c.dup_flags[j + 1] and c.reads[j + 1] == c.reads[j] + 1:
                j += 1
            if c.reads[j] == highest:
                c.dups += j - i + 1  # a redelivered run, up to where the chain had got
            else:
                seq = c.reads[i]
                self.add(seq, Reason.REPLAYED,
                         f"read again after seq {highest}, not as a redelivery",
                         c.first.get(seq))
            i = j + 1


def _out_of_order(seqs: list[int]) -> list[int]:
    """Seqs outside one longest increasing subsequence of ``seqs`` (distinct values)."""
    if all(a < b for a, b in pairwise(seqs)):
        return []
    tails: list[int] = []
    tail_index: list[int] = []
    parent = [-1] * len(seqs)
    for i, seq in enumerate(seqs):
        j = bisect_left(tails, seq)
        if j == len(tails):
            tails.append(seq)
            tail_index.append(i)
        else:
            tails[j] = seq
            tail_index[j] = i
        parent[i] = tail_index[j - 1] if j else -1
    keep: set[int] = set()
    i = tail_index[-1]
    while i >= 0:
        keep.add(i)
        i = parent[i]
    return [seq for i, seq in enumerate(seqs) if i not in keep]
