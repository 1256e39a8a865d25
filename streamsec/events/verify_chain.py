"""One chain's checks for :mod:`streamsec.events.verify`: what was read of it, against
what its writer (checkpoints), its writer's digests and a successor (handover) signed."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from itertools import pairwise
from typing import Any

from streamsec.events.batch import unpack
from streamsec.events.canonical import genesis
from streamsec.events.entries import Entry, Signed
from streamsec.events.verify_report import ChainStatus, Problem, Reason

__all__ = ["PRIORITY", "ChainCheck", "ChainData", "as_int", "missing_digests"]

PRIORITY = {reason: rank for rank, reason in enumerate(Reason)}


class ChainData:
    __slots__ = ("broken", "checkpoints", "dup_flags", "dups", "extra", "first", "reads")

    def __init__(self) -> None:
        self.first: dict[int, Entry] = {}
        self.extra: list[Entry] = []
        self.broken: list[Entry] = []
        self.checkpoints: list[Entry] = []
        self.reads = array("q")
        self.dup_flags = bytearray()
        self.dups = 0


def missing_digests(
    c: ChainStatus, streams: Mapping[str, object], crashed: set[Any]
) -> ChainStatus:
    """A chain whose writer's digest chain is absent: its digests were removed (unless
    the writer died before its first digest, which a handover shows)."""
    if c.stream is None or c.stream in streams or c.stream in crashed:
        return c
    problem = Problem(c.chain, c.last_checkpoint, Reason.DELETED,
                      f"every signed digest of its writer ({c.stream}) is missing")
    problems = sorted((*c.problems, problem),
                      key=lambda p: (2**62 if p.seq is None else p.seq, PRIORITY[p.reason]))
    return replace(c, problems=tuple(problems))


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class ChainCheck:
    """Every check of one chain, given what was read and what was signed about it."""

    def __init__(
        self, name: str, data: ChainData, named: list[tuple[int, str, bool, Signed]],
        abandons: list[Signed], extra: list[Problem], *, allow_open: bool,
        allow_expired_head: bool,
    ) -> None:
        self.name, self.c, self.named, self.abandons = name, data, named, abandons
        self.found = list(extra)
        self.allow_open, self.allow_expired_head = allow_open, allow_expired_head
        self.full: dict[int, tuple[str, str]] = {}
        """seq -> (digest, who signed it), from checkpoints, digests and handovers."""
        self.prefix: dict[int, str] = {}
        self.records: dict[int, bytes] = {}
        """seq -> (offset, entry digest) list the writer signed for a batch event."""
        self.named_records: list[Problem] = []

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
            for covered, packed in (cp.signed_records or {}).items():
                if start <= covered < seq:
                    self.records.setdefault(covered, packed)
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
        ab_seq = as_int(handover.data.get("last_seq")) if handover else None
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
            self._entries()
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
        named = {id(p) for p in self.named_records}  # a named record first at its seq
        self.found.sort(key=lambda p: (2**62 if p.seq is None else p.seq, id(p) not in named,
                                       PRIORITY[p.reason]))
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

    def _entries(self) -> None:
        """Batch events: each entry read against the (offset, digest) list the writer
        signed for it, so a changed, removed, added or moved entry names its record."""
        broken = {e.seq: e for e in self.c.broken if e.seq is not None}
        for seq, packed in sorted(self.records.items()):
            e = self.c.first.get(seq)
            if e is None or (e.records is None and seq in broken):
                e = broken.get(seq)
            if e is None or e.records is None or (e.digest_ok and self._matches(e, seq)):
                continue  # gone (reported as such), unread, or exactly what was signed
            want, got = unpack(packed), unpack(e.records)
            if want == got:
                continue
            where = e.source or f"partition {self.name.split('/')[-2]}"

            def name(offset: int, where: str = where) -> str:
                return f"record {where}/{offset}"

            before = len(self.found)
            signed, read = dict(want), dict(got)
            missing = [offset for offset, _digest in want if offset not in read]
            seen: set[int] = set()
            extra = []
            for offset, _digest in got:
                if offset not in signed or offset in seen:
                    extra.append(offset)
                seen.add(offset)
            if missing and len(missing) == len(extra):  # rewritten to claim other offsets
                for offset, claimed in zip(missing, extra, strict=True):
                    self.add(seq, Reason.MODIFIED, f"{name(offset)}: its entry differs from "
                             f"what the writer signed (it claims offset {claimed})", e)
                missing = extra = []
            for offset in missing:
                self.add(seq, Reason.DELETED,
                         f"{name(offset)}: its entry is missing from the batch event", e)
            for offset in extra:
                self.add(seq, Reason.INSERTED,
                         f"{name(offset)}: an entry the writer never signed", e)
            for offset, digest in want:
                if offset in read and read[offset] != digest:
                    self.add(seq, Reason.MODIFIED,
                             f"{name(offset)}: its entry differs from what the writer signed", e)
            if len(self.found) == before:  # the same entries in another order
                moved = next(w for w, g in zip(want, got, strict=True) if w != g)
                self.add(seq, Reason.REORDERED,
                         f"{name(moved[0])}: its entry is out of the order the writer signed", e)
            self.named_records += self.found[before:]

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
