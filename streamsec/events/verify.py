"""Verify audit chains: find, per chain, the first broken event and why.

Input: events in read order (a topic or a JSON Lines file), chains interleaved.
Every event is checked on its own (``digest`` and ``mac``), then each chain as a
whole. Exact duplicates of an authentic event (a redelivery) are ignored.

How each tamper shows, and is classified:

``modified``   the body no longer matches its stored ``digest``. The event is
               placed at its original position through the chain: the next
               authentic event's ``prev`` commits to its stored digest, or its
               own ``prev`` names the authentic event before it; so an edited
               ``seq`` or ``chain`` is still reported where the event belongs.
``bad_mac``    the body matches its digest but the MAC does not verify (a
               replaced or forged MAC; or no key for its ``audit_key_id``).
``inserted``   an unauthenticated event beside an authentic one at the same
               position, after a chain's final checkpoint, or unplaceable; also
               two different authentic events at one position.
``deleted``    a position between the chain's start and its last event has no
               event at all (the following event's ``prev`` then names nothing).
``reordered``  authentic events of one chain read out of ``seq`` order; reported
               at the lowest seq outside the longest in-order run.
``truncated``  the chain ends without its final checkpoint: its tail was cut
               (or its worker died without closing it; see ``allow_open``).

Limits (inherent to a hash chain with a symmetric key): a whole chain removed
together with all its checkpoints leaves no trace here, and an event appended to
an *open* chain's tail with a forged MAC reads as ``bad_mac``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from streamsec.events.canonical import genesis
from streamsec.events.entries import Entry, KeyLookup, as_key_lookup, read_entry
from streamsec.events.verify_report import ChainStatus, Problem, Reason, VerifyReport

__all__ = ["AuditVerifier", "ChainStatus", "Problem", "Reason", "VerifyReport", "verify"]

UNKNOWN_CHAIN = "?"


_PRIORITY = {reason: rank for rank, reason in enumerate(Reason)}


def verify(
    events: Iterable[Any],
    keys: Mapping[str, bytes] | KeyLookup,
    *,
    allow_open: bool = False,
    allow_expired_head: bool = False,
) -> VerifyReport:
    """Check every chain in ``events`` (see :class:`AuditVerifier` for the options)."""
    verifier = AuditVerifier(keys, allow_open=allow_open, allow_expired_head=allow_expired_head)
    for event in events:
        verifier.feed(event)
    return verifier.report()


class AuditVerifier:
    """Streaming form of :func:`verify`: :meth:`feed` events in read order, then :meth:`report`.

    Only a small digest of each event is kept, never the event. ``keys`` maps
    ``data.audit_key_id`` to the audit key (or is a lookup function).
    ``allow_open``: chains without a final checkpoint (running workers) pass; their
    tail after the last checkpoint cannot be confirmed. ``allow_expired_head``: a
    chain may start after seq 0 (topic retention removed its head).
    """

    def __init__(
        self,
        keys: Mapping[str, bytes] | KeyLookup,
        *,
        allow_open: bool = False,
        allow_expired_head: bool = False,
    ) -> None:
        self._keys = as_key_lookup(keys)
        self._allow_open = allow_open
        self._allow_expired_head = allow_expired_head
        self._position = 0
        self._unreadable: list[int] = []
        self._reported = False
        self.authentic: dict[str, dict[int, Entry]] = defaultdict(dict)
        self.order: dict[str, list[int]] = defaultdict(list)
        self.placed: dict[str, set[int]] = defaultdict(set)
        self.problems: dict[str, list[Problem]] = defaultdict(list)
        self.pending: list[Entry] = []
        self.final_at: dict[str, int] = {}
        self._seen: set[str | None] = set()

    def feed(self, event: Any) -> None:
        """One event as read (a parsed JSON value; anything else counts as unreadable)."""
        if self._reported:
            raise RuntimeError("report() was already called")
        position = self._position
        self._position += 1
        if isinstance(event, Mapping):
            self._add(read_entry(position, event, self._keys))
        else:
            self._unreadable.append(position)

    def report(self) -> VerifyReport:
        """Classify everything fed so far."""
        if self._reported:
            raise RuntimeError("report() was already called")
        self._reported = True
        self._classify()
        chains = tuple(
            self._status(
                chain, allow_open=self._allow_open, allow_expired_head=self._allow_expired_head
            )
            for chain in sorted(set(self.authentic) | set(self.problems))
        )
        self.pending = []
        return VerifyReport(chains, tuple(self._unreadable))

    def _problem(self, chain: str, seq: int | None, reason: Reason, detail: str, e: Entry) -> None:
        self.problems[chain].append(Problem(chain, seq, reason, detail, e.position))

    def _add(self, e: Entry) -> None:
        if not (e.authentic and e.chain is not None and e.seq is not None):
            self.pending.append(e)
            return
        if e.digest in self._seen:
            return  # redelivered duplicate (authentic: its digest names its content)
        self._seen.add(e.digest)
        slot = self.authentic[e.chain]
        if e.seq in slot:
            self._problem(e.chain, e.seq, Reason.INSERTED, "two authentic events share it", e)
            return
        slot[e.seq] = e
        self.order[e.chain].append(e.seq)

    def _classify(self) -> None:
        by_digest = {
            e.digest: (c, s) for c, slot in self.authentic.items() for s, e in slot.items()
        }
        committed = {
            e.prev: (c, s - 1) for c, slot in self.authentic.items() for s, e in slot.items() if s
        }
        genesis_of = {genesis(c): c for c in self.authentic}
        self.final_at = {
            c: min(s for s, e in slot.items() if e.final)
            for c, slot in self.authentic.items()
            if any(e.final for e in slot.values())
        }
        for e in self.pending:
            if e.digest is not None and e.digest in committed and e.digest not in by_digest:
                self._at(e, *committed[e.digest])
                continue
            link: tuple[str, int] | None = None
            if e.prev in by_digest:
                chain, before = by_digest[e.prev]
                link = (chain, before + 1)
            elif e.prev in genesis_of:
                link = (genesis_of[e.prev], 0)
            if link is not None:
                if link[1] in self.authentic[link[0]]:
                    self._problem(*link, Reason.INSERTED, "an authentic event holds it", e)
                else:
                    self._at(e, *link)
                continue
            self._unplaced(e)

    def _at(self, e: Entry, chain: str, seq: int) -> None:
        final = self.final_at.get(chain)
        if final is not None and seq > final:
            self._problem(chain, seq, Reason.INSERTED, "after the chain's final checkpoint", e)
            return
        self.placed[chain].add(seq)
        if not e.digest_ok:
            self._problem(chain, seq, Reason.MODIFIED, "content differs from what was sealed", e)
        elif not e.key_known:
            self._problem(chain, seq, Reason.BAD_MAC, "no audit key for its audit_key_id", e)
        else:
            self._problem(chain, seq, Reason.BAD_MAC, "MAC does not verify", e)

    def _unplaced(self, e: Entry) -> None:
        chain = e.chain if e.chain is not None else UNKNOWN_CHAIN
        slot = self.authentic.get(chain)
        if not slot:  # nothing of this chain authenticates: wrong key, or a forged chain
            if e.digest_ok:
                why = "MAC does not verify" if e.key_known else "no audit key for its audit_key_id"
                self._problem(chain, e.seq, Reason.BAD_MAC, f"{why}; no event of the chain does", e)
            else:
                self._problem(chain, e.seq, Reason.MODIFIED, "content differs from its digest", e)
            return
        final = self.final_at.get(chain)
        beside = e.seq is not None and (e.seq in slot or (final is not None and e.seq > final))
        if e.seq is not None and not beside:
            self.placed[chain].add(e.seq)  # it fills its claimed position (not a deletion)
        if not e.digest_ok and not beside:
            self._problem(chain, e.seq, Reason.MODIFIED, "content differs from its digest", e)
        else:
            self._problem(chain, e.seq, Reason.INSERTED, "not linked to the chain", e)

    def _status(self, chain: str, *, allow_open: bool, allow_expired_head: bool) -> ChainStatus:
        slot = self.authentic.get(chain, {})
        found = list(self.problems.get(chain, []))

        def add(seq: int, reason: Reason, detail: str, e: Entry | None = None) -> None:
            found.append(Problem(chain, seq, reason, detail, e.position if e else None))

        occupied = sorted(set(slot) | self.placed.get(chain, set()))
        expected = occupied[0] if allow_expired_head and occupied else 0
        for seq in occupied:
            if seq != expected:
                add(expected, Reason.DELETED, f"missing; the chain resumes at seq {seq}")
                break
            expected += 1
        final = self.final_at.get(chain)
        for seq, e in slot.items():
            before = genesis(chain) if seq == 0 else getattr(slot.get(seq - 1), "digest", None)
            if before is not None and e.prev != before:
                add(seq, Reason.INSERTED, "does not follow the event before it", e)
            if e.is_checkpoint and (e.count != seq or (seq and e.last_digest != e.prev)):
                add(seq, Reason.MODIFIED, "checkpoint disagrees with the chain", e)
            if final is not None and seq > final:
                add(seq, Reason.INSERTED, "after the chain's final checkpoint", e)
        moved = _out_of_order(self.order.get(chain, []))
        if moved:
            add(min(moved), Reason.REORDERED, "read out of seq order", slot[min(moved)])
        checkpoints = [s for s, e in slot.items() if e.is_checkpoint]
        if final is None and not allow_open and occupied:
            note = f"; last checkpoint at seq {max(checkpoints)}" if checkpoints else ""
            add(
                occupied[-1] + 1,
                Reason.TRUNCATED,
                f"the chain ends at seq {occupied[-1]} without a final checkpoint{note}",
            )
        found.sort(key=lambda p: (-1 if p.seq is None else p.seq, _PRIORITY[p.reason]))
        return ChainStatus(
            chain=chain,
            events=len(slot),
            last_seq=max(slot) if slot else None,
            closed=final is not None,
            last_checkpoint=max(checkpoints) if checkpoints else None,
            problems=tuple(found),
        )


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
