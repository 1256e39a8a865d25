"""A generated tamper suite: every single tamper must be detected, at the right chain and seq.

Stream: 3 closed chains (12 records each, a signed checkpoint every 5 records, a
final checkpoint), interleaved, then each writer's final signed digest. Kinds:
single-field edits, forged signatures, deleted events, inserted events, swapped
(reordered) events, truncated tails. A case counts as caught when ``verify``
fails, the tampered chain's *first* problem has an expected reason and seq, and
every other chain still verifies. The tamperer holds no signing key.
"""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from streamsec.events.canonical import compute_digest
from streamsec.events.chain import sign_event
from streamsec.events.verify import Reason, VerifyReport, verify
from tests.unit.events.conftest import OTHER_SIGNER, TRUST, make_stream_events, with_digest

Event = dict[str, Any]
KEYS = TRUST
R = Reason


@dataclass
class Case:
    kind: str
    name: str
    events: list[Any]
    expect: dict[str, tuple[frozenset[Reason], frozenset[int]]]
    others_may_fail: bool = False


def _positions(stream: list[Event]) -> dict[str, list[int]]:
    """Chain id -> stream indices of its events, in seq order."""
    out: dict[str, list[int]] = {}
    for index, event in enumerate(stream):
        if "chain" in event:
            out.setdefault(event["chain"], []).append(index)
    for indices in out.values():
        indices.sort(key=lambda i: stream[i]["seq"])
    return out


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, str):
        return value + "~"
    return "x"


def _data_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _data_leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _data_leaves(value, (*path, i))
    else:
        yield path


def _set_in(event: Event, path: tuple[Any, ...], value: Any) -> None:
    node: Any = event["data"]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _field_edits(
    event: Event, other_chain: str, rng: random.Random
) -> list[tuple[str, Callable[[Event], None]]]:
    edits: list[tuple[str, Callable[[Event], None]]] = []
    for attr in ("id", "source", "type", "subject", "datacontenttype", "specversion"):
        edits.append((attr, lambda e, a=attr: e.__setitem__(a, e[a] + "x")))
    edits += [
        ("time", lambda e: e.__setitem__("time", "2030-01-01T00:00:00.000Z")),
        ("seq+1", lambda e: e.__setitem__("seq", e["seq"] + 1)),
        ("seq-big", lambda e: e.__setitem__("seq", 10**6)),
        ("seq-str", lambda e: e.__setitem__("seq", str(e["seq"]))),
        ("prev", lambda e: e.__setitem__("prev", "0" * 64)),
        ("chain-other", lambda e: e.__setitem__("chain", other_chain)),
        ("chain-new", lambda e: e.__setitem__("chain", "forged/p/0/x")),
        ("digest", lambda e: e.__setitem__("digest", "f" * 64)),
        ("add-attr", lambda e: e.__setitem__("extra", "x")),
        ("drop-subject", lambda e: e.pop("subject")),
        ("drop-time", lambda e: e.pop("time")),
        ("data-add", lambda e: e["data"].__setitem__("value", "x")),
        ("data-drop-worker", lambda e: e["data"].pop("worker")),
    ]
    leaves = list(_data_leaves(event["data"]))
    for path in rng.sample(leaves, min(4, len(leaves))):
        edits.append(
            (
                f"data.{'.'.join(map(str, path))}",
                lambda e, p=path: _set_in(e, p, _changed(_get_in(e, p))),
            )
        )
    return edits


def _get_in(event: Event, path: tuple[Any, ...]) -> Any:
    node: Any = event["data"]
    for part in path:
        node = node[part]
    return node


def _with_copy(stream: list[Event], index: int) -> list[Event]:
    """The stream with a private copy of one event (to edit); the others are shared."""
    out = list(stream)
    out[index] = copy.deepcopy(stream[index])
    return out


def _reseal_digest(event: Event) -> None:
    event["digest"] = compute_digest(event)


def cases(stream: list[Event], seed: int = 11) -> Iterator[Case]:
    rng = random.Random(seed)
    chains = _positions(stream)
    ids = sorted(chains)

    def one(
        kind: str, name: str, events: list[Any], chain: str, reasons: set[Reason], *seqs: int,
        others: bool = False,
    ) -> Case:
        return Case(kind, name, events, {chain: (frozenset(reasons), frozenset(seqs))}, others)

    for index, event in enumerate(stream):
        if "chain" not in event:
            continue
        chain, seq = event["chain"], event["seq"]
        other = next(c for c in ids if c != chain)
        is_cp = event["type"] == "io.streamsec.audit.checkpoint"
        covered = range(event["data"]["from_seq"], seq + 1) if is_cp else range(seq, seq + 1)
        # --- single-field edits -> modified (or, claiming another place, deleted here)
        for name, edit in _field_edits(event, other, rng):
            tampered = _with_copy(stream, index)
            edit(tampered[index])
            moved = name.startswith(("seq", "chain"))
            yield one("modified", f"{chain}#{seq} {name}", tampered, chain,
                      {R.MODIFIED, R.DELETED}, seq, others=moved)
        # --- re-sealed edits: the digest recomputed, a signature forged where there is one
        forged: list[tuple[str, Callable[[Event], None]]] = [
            ("edit+redigest",
             lambda e: (e["data"].__setitem__("worker", "mallory"), _reseal_digest(e))),
        ]
        if is_cp:
            forged += [
                ("random-sig", lambda e: e.__setitem__("sig", "A" * 86 + "==")),
                ("removed-sig", lambda e: e.pop("sig")),
                ("other-sig", lambda e, i=index: e.__setitem__("sig", _other_sig(stream, i))),
                ("own-key", lambda e: (e["data"].__setitem__("final", not e["data"]["final"]),
                                       _reseal_digest(e), sign_event(OTHER_SIGNER, e))),
            ]
        for name, edit in forged:
            tampered = _with_copy(stream, index)
            edit(tampered[index])
            yield one("forged", f"{chain}#{seq} {name}", tampered, chain,
                      {R.MODIFIED, R.BAD_SIGNATURE}, *covered)

    for chain, indices in chains.items():
        n = len(indices)
        final = stream[indices[-1]]
        for k in range(n):
            event = stream[indices[k]]
            is_cp = event["type"] == "io.streamsec.audit.checkpoint"
            covered = range(event["data"]["from_seq"], k + 1) if is_cp else range(k, k + 1)
            # --- deleted: one event, or two in a row (also the final checkpoint)
            tampered = [e for i, e in enumerate(stream) if i != indices[k]]
            yield one("deleted", f"{chain}#{k}", tampered, chain, {R.DELETED}, k)
            if k < n - 1:
                gone = {indices[k], indices[k + 1]}
                tampered = [e for i, e in enumerate(stream) if i not in gone]
                yield one("deleted", f"{chain}#{k}-{k + 1}", tampered, chain, {R.DELETED}, k)
            # --- inserted events
            forged = copy.deepcopy(event)
            forged["data"]["worker"] = "mallory"
            _reseal_digest(forged)
            if is_cp:
                sign_event(OTHER_SIGNER, forged)
            tampered = list(stream)
            tampered.insert(rng.randrange(len(tampered) + 1), forged)
            yield one("inserted", f"{chain}#{k} forged", tampered, chain,
                      {R.INSERTED, R.BAD_SIGNATURE, R.MODIFIED, R.REORDERED}, *covered)

            copied = copy.deepcopy(event)
            copied["data"]["worker"] = "mallory"  # digest left as it was
            tampered = list(stream)
            tampered.insert(indices[k] + 1, copied)
            yield one("inserted", f"{chain}#{k} copy", tampered, chain, {R.MODIFIED}, k)
            # --- reordered: moved to the end / to the start
            if k < n - 1:
                tampered = [e for i, e in enumerate(stream) if i != indices[k]] + [event]
                seqs = (k,) if k < n - 2 else (k, k + 1)  # moving n-2 past n-1 is a swap
                yield one("reordered", f"{chain}#{k} to end", tampered, chain, {R.REORDERED},
                          *seqs)
            if k > 0:
                tampered = [event] + [e for i, e in enumerate(stream) if i != indices[k]]
                seqs = (k,) if k > 1 else (0, 1)
                yield one("reordered", f"{chain}#{k} to start", tampered, chain,
                          {R.REORDERED}, *seqs)
            # --- truncated: the chain's last n - k events cut off (its digest names them)
            if k > 0:
                gone = set(indices[k:])
                tampered = [e for i, e in enumerate(stream) if i not in gone]
                yield one("truncated", f"{chain} cut at {k}", tampered, chain,
                          {R.DELETED, R.TRUNCATED}, k)
        # appended after the final checkpoint
        for name, link in (("linked", final["digest"]), ("unlinked", "0" * 64)):
            extra = copy.deepcopy(final)
            extra.update(seq=final["seq"] + 1, prev=link, id="appended")
            _reseal_digest(extra)
            sign_event(OTHER_SIGNER, extra)
            yield one("inserted", f"{chain} after final {name}", [*stream, extra], chain,
                      {R.INSERTED, R.BAD_SIGNATURE}, final["seq"] + 1)
        # swapped pairs: adjacent ones and a few random ones
        pairs = [(k, k + 1) for k in range(n - 1)]
        pairs += [tuple(sorted(rng.sample(range(n), 2))) for _ in range(5)]
        for a, b in pairs:
            tampered = list(stream)
            tampered[indices[a]], tampered[indices[b]] = tampered[indices[b]], tampered[indices[a]]
            # b - a == 2 reads b, m, a: which of the three "moved" is a matter of choice
            seqs = (a, b) if b - a != 2 else (a, a + 1, b)
            yield one("reordered", f"{chain} swap {a}<->{b}", tampered, chain, {R.REORDERED},
                      *seqs)


def _other_sig(stream: list[Event], index: int) -> str:
    """The signature of another checkpoint (valid, but over other bytes)."""
    return next(e["sig"] for e in stream if "sig" in e and e is not stream[index])


def judge(case: Case, report: VerifyReport) -> bool:
    if report.ok:
        return False
    for status in report.chains:
        wanted = case.expect.get(status.chain)
        if wanted is None:
            if not status.ok and not case.others_may_fail:
                return False
            continue
        first = status.first
        if first is None or first.reason not in wanted[0] or first.seq not in wanted[1]:
            return False
    return all(chain in {s.chain for s in report.chains} for chain in case.expect)


@pytest.fixture(scope="module", params=[0, 3], ids=["per-record", "batched"])
def stream(request: pytest.FixtureRequest) -> list[Event]:
    """Per-record events, or batch events of 3 records each (their entries listed in
    the checkpoints): every tamper is caught the same way."""
    return make_stream_events(batch=request.param)


def test_untouched_stream_verifies(stream: list[Event]) -> None:
    report = verify(stream, KEYS)
    assert report.ok, report.first_problems
    assert [s.events for s in report.chains] == [15, 15, 15]
    assert all(s.closed and s.last_seq == 14 for s in report.chains)


def test_tamper_suite_catches_every_tamper(stream: list[Event]) -> None:
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: list[str] = []
    for case in cases(stream):
        total[case.kind] += 1
        report = verify(case.events, KEYS)
        if judge(case, report):
            caught[case.kind] += 1
        else:
            got = [str(p) for p in report.first_problems]
            missed.append(f"{case.kind}: {case.name} -> {got}")
    summary = ", ".join(f"{k} {caught[k]}/{total[k]}" for k in sorted(total))
    print(f"\ntamper suite: {sum(caught.values())}/{sum(total.values())} caught ({summary})")
    assert set(total) == {"modified", "forged", "deleted", "inserted", "reordered", "truncated"}
    assert not missed, "\n".join(missed[:20])


def test_benign_changes_still_verify(stream: list[Event]) -> None:
    rng = random.Random(5)
    # a different interleaving of the same chains
    assert verify(make_stream_events(seed=99), KEYS).ok

    # JSON round trip with every object's keys shuffled, and integral floats
    def shuffle(node: Any) -> Any:
        if isinstance(node, dict):
            items = list(node.items())
            rng.shuffle(items)
            return {k: shuffle(v) for k, v in items}
        return [shuffle(v) for v in node] if isinstance(node, list) else node

    reparsed = [shuffle(json.loads(json.dumps(e))) for e in stream]
    for event in reparsed:
        if "seq" in event:
            event["seq"] = float(event["seq"])
    assert verify(reparsed, KEYS).ok
    # redelivered duplicates: a run of one chain's events resent right after its last one
    chains = _positions(stream)
    for chain, indices in chains.items():
        k, j = sorted(rng.sample(range(len(indices)), 2))
        with_dups = list(stream)
        run = [copy.deepcopy(stream[i]) for i in indices[k : j + 1]]
        with_dups[indices[j] + 1 : indices[j] + 1] = run
        report = verify(with_dups, KEYS)
        assert report.ok, (chain, k, j, report.first_problems)
        assert report.duplicates == j - k + 1
    # events of two different chains swapped: each chain is still in order
    a, b = sorted(chains)[:2]
    i, j = chains[a][3], chains[b][9]
    swapped = list(stream)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    if all(verify(with_digest([e for e in swapped if e.get("chain") == c]), KEYS).ok
           for c in (a, b)):
        assert verify(swapped, KEYS).ok


def test_a_cut_stream_tail_is_caught_for_every_chain_it_reaches(stream: list[Event]) -> None:
    """The stream ends with the writers' final digests: cutting any tail removes a digest
    (the chains then name their writer's missing digests) or the events a digest names."""
    chains = _positions(stream)
    for cut in range(1, 14):
        kept = stream[:-cut]
        report = verify(kept, KEYS)
        assert not report.ok, cut
        for chain, indices in chains.items():
            left = sum(1 for i in indices if i < len(kept))
            status = next(s for s in report.chains if s.chain == chain)
            if left < len(indices):
                assert status.first is not None and status.first.seq is not None
                assert status.first.seq <= left, (cut, chain, status.first)
