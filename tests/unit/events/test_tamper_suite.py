"""A generated tamper suite: every single tamper must be detected and classified right.

Stream: 3 closed chains (12 records each, a checkpoint every 5, final checkpoint),
interleaved. Kinds: single-field edits, deleted events, inserted events, swapped
(reordered) events, truncated tails, forged MACs. A case counts as caught when
``verify`` fails, the tampered chain's *first* problem has the expected reason and
seq, and every other chain still verifies.
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

from streamsec.events.canonical import compute_digest, compute_mac
from streamsec.events.verify import Reason, VerifyReport, verify
from tests.unit.events.conftest import AUDIT_KEY, KEY_ID, WRONG_KEY, make_stream_events

Event = dict[str, Any]
KEYS = {KEY_ID: AUDIT_KEY}


@dataclass
class Case:
    kind: str
    name: str
    events: list[Any]
    expect: dict[str, tuple[Reason, frozenset[int]]]


def _positions(stream: list[Event]) -> dict[str, list[int]]:
    """Chain id -> stream indices of its events, in seq order."""
    out: dict[str, list[int]] = {}
    for index, event in enumerate(stream):
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
        ("chain-new", lambda e: e.__setitem__("chain", "forged/0/x")),
        ("digest", lambda e: e.__setitem__("digest", "f" * 64)),
        ("add-attr", lambda e: e.__setitem__("extra", "x")),
        ("drop-subject", lambda e: e.pop("subject")),
        ("drop-time", lambda e: e.pop("time")),
        ("data-add", lambda e: e["data"].__setitem__("value", "x")),
        ("data-drop-key-id", lambda e: e["data"].pop("audit_key_id")),
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
        kind: str, name: str, events: list[Any], chain: str, reason: Reason, *seqs: int
    ) -> Case:
        return Case(kind, name, events, {chain: (reason, frozenset(seqs))})

    for index, event in enumerate(stream):
        chain, seq = event["chain"], event["seq"]
        other = next(c for c in ids if c != chain)
        # --- single-field edits -> modified
        for name, edit in _field_edits(event, other, rng):
            tampered = _with_copy(stream, index)
            edit(tampered[index])
            yield one("modified", f"{chain}#{seq} {name}", tampered, chain, Reason.MODIFIED, seq)
        # --- forged MACs -> bad_mac
        forged: list[tuple[str, Callable[[Event], None]]] = [
            ("random", lambda e: e.__setitem__("mac", f"{rng.getrandbits(256):064x}")),
            ("wrong-key", lambda e: e.__setitem__("mac", compute_mac(WRONG_KEY, e))),
            ("removed", lambda e: e.pop("mac")),
            ("upper", lambda e: e.__setitem__("mac", e["mac"].upper())),
            ("other-event", lambda e, i=index: e.__setitem__("mac", stream[i - 1]["mac"])),
            (
                "edit+redigest",
                lambda e: (e["data"].__setitem__("worker", "mallory"), _reseal_digest(e)),
            ),
        ]
        for name, edit in forged:
            tampered = _with_copy(stream, index)
            edit(tampered[index])
            yield one("bad_mac", f"{chain}#{seq} {name}", tampered, chain, Reason.BAD_MAC, seq)

    for chain, indices in chains.items():
        n = len(indices)
        final = stream[indices[-1]]
        for k in range(n):
            event = stream[indices[k]]
            # --- deleted: one event, or two in a row (the last one is a truncation)
            if k < n - 1:
                tampered = [e for i, e in enumerate(stream) if i != indices[k]]
                yield one("deleted", f"{chain}#{k}", tampered, chain, Reason.DELETED, k)
            if k < n - 2:
                gone = {indices[k], indices[k + 1]}
                tampered = [e for i, e in enumerate(stream) if i not in gone]
                yield one("deleted", f"{chain}#{k}-{k + 1}", tampered, chain, Reason.DELETED, k)
            # --- inserted events
            forged = copy.deepcopy(event)
            forged["data"]["worker"] = "mallory"
            _reseal_digest(forged)
            forged["mac"] = f"{rng.getrandbits(256):064x}"
            tampered = list(stream)
            tampered.insert(rng.randrange(len(tampered) + 1), forged)
            yield one("inserted", f"{chain}#{k} forged", tampered, chain, Reason.INSERTED, k)

            copied = copy.deepcopy(event)
            copied["data"]["worker"] = "mallory"  # digest and mac left as they were
            tampered = list(stream)
            tampered.insert(indices[k] + 1, copied)
            yield one("inserted", f"{chain}#{k} copy", tampered, chain, Reason.INSERTED, k)

            own_key = copy.deepcopy(event)
            own_key["data"]["record"] = None
            _reseal_digest(own_key)
            own_key["mac"] = compute_mac(WRONG_KEY, own_key)
            tampered = list(stream)
            tampered.insert(rng.randrange(len(tampered) + 1), own_key)
            yield one("inserted", f"{chain}#{k} own-key", tampered, chain, Reason.INSERTED, k)
            # --- reordered: moved to the end / to the start
            if k < n - 1:
                tampered = [e for i, e in enumerate(stream) if i != indices[k]] + [event]
                seqs = (k,) if k < n - 2 else (k, k + 1)  # moving n-2 past n-1 is a swap
                yield one(
                    "reordered", f"{chain}#{k} to end", tampered, chain, Reason.REORDERED, *seqs
                )
            if k > 0:
                tampered = [event] + [e for i, e in enumerate(stream) if i != indices[k]]
                seqs = (k,) if k > 1 else (0, 1)
                yield one(
                    "reordered", f"{chain}#{k} to start", tampered, chain, Reason.REORDERED, *seqs
                )
            # --- truncated: the chain's last n - k events cut off
            if k > 0:
                gone = set(indices[k:])
                tampered = [e for i, e in enumerate(stream) if i not in gone]
                yield one("truncated", f"{chain} cut at {k}", tampered, chain, Reason.TRUNCATED, k)
        # appended after the final checkpoint
        for name, link in (("linked", final["digest"]), ("unlinked", "0" * 64)):
            extra = copy.deepcopy(final)
            extra.update(seq=final["seq"] + 1, prev=link, id="appended")
            _reseal_digest(extra)
            extra["mac"] = f"{rng.getrandbits(256):064x}"
            yield one(
                "inserted",
                f"{chain} after final {name}",
                [*stream, extra],
                chain,
                Reason.INSERTED,
                final["seq"] + 1,
            )
        # swapped pairs: adjacent ones and a few random ones
        pairs = [(k, k + 1) for k in range(n - 1)]
        pairs += [tuple(sorted(rng.sample(range(n), 2))) for _ in range(5)]
        for a, b in pairs:
            tampered = list(stream)
            tampered[indices[a]], tampered[indices[b]] = tampered[indices[b]], tampered[indices[a]]
            # b - a == 2 reads b, m, a: which of the three "moved" is a matter of choice
            seqs = (a, b) if b - a != 2 else (a, a + 1, b)
            yield one(
                "reordered", f"{chain} swap {a}<->{b}", tampered, chain, Reason.REORDERED, *seqs
            )

    # the stream's tail cut off: every chain that lost events (but not all) is truncated
    for cut in range(1, 13):
        kept = stream[:-cut]
        expect: dict[str, tuple[Reason, frozenset[int]]] = {}
        for chain, indices in chains.items():
            left = sum(1 for i in indices if i < len(kept))
            if 0 < left < len(indices):
                expect[chain] = (Reason.TRUNCATED, frozenset({left}))
        if expect:
            yield Case("truncated", f"stream tail -{cut}", kept, expect)


def judge(case: Case, report: VerifyReport) -> bool:
    if report.ok:
        return False
    for status in report.chains:
        wanted = case.expect.get(status.chain)
        if wanted is None:
            if not status.ok:
                return False
            continue
        first = status.first
        if first is None or first.reason != wanted[0] or first.seq not in wanted[1]:
            return False
    return all(chain in {s.chain for s in report.chains} for chain in case.expect)


@pytest.fixture(scope="module")
def stream() -> list[Event]:
    return make_stream_events()


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
    assert set(total) == {"modified", "bad_mac", "deleted", "inserted", "reordered", "truncated"}
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
        event["seq"] = float(event["seq"])
    assert verify(reparsed, KEYS).ok
    # redelivered duplicates (after their original)
    with_dups = list(stream)
    for index in sorted(rng.sample(range(len(stream)), 8), reverse=True):
        with_dups.insert(rng.randrange(index + 1, len(with_dups) + 1), copy.deepcopy(stream[index]))
    assert verify(with_dups, KEYS).ok
    # events of two different chains swapped: each chain is still in order
    chains = _positions(stream)
    a, b = sorted(chains)[:2]
    i, j = chains[a][3], chains[b][9]
    swapped = list(stream)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    if all(verify([e for e in swapped if e["chain"] == c], KEYS).ok for c in (a, b)):
        assert verify(swapped, KEYS).ok
