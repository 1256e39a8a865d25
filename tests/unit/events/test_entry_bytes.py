"""A protected record's entry bytes spliced from memoised parts are byte for byte its
reference canonical form, whatever the entry holds, and the memo never lets one
action's bytes stand for another that renders differently."""

from __future__ import annotations

import random
from contextlib import nullcontext
from typing import Any

import pytest
import rfc8785

from streamsec.events import entry_bytes
from streamsec.events.audit import RecordRef, protected_entry
from streamsec.events.batch import BatchEntries, entry_digest
from streamsec.events.canonical import CanonicalizationError, canonical_json
from streamsec.events.entry_bytes import protected_entry_bytes
from streamsec.protection.result import FieldAction
from tests.unit.events.conftest import ACTIONS

_TEXTS = [
    "email", "a.b[3].c", "ünïcödé", "€uro", "\U0001f600emoji", "quote\"back\\slash",
    "tab\tnl\n\r\b\f", "\x00nul\x1f\x7f", "\u2028\u2029", "\x00streamsec.precanonical\x00",
    "", " ", "k" * 300, "\ufeffbom", "日本語", "null", "[1,2]", '{"x":1}',
]
_KEY_IDS = [None, "k37wg2yxnlp", "kobkxxbpnkx", "k-ü", "k\"q", "", "\U0001f511"]
_SCORES: list[Any] = [None, 0.85, 1.0, 0.0, -0.0, 1, 0, 1e-07, 1e21, 0.1 + 0.2, 123.456, 5e-324]


def _action(rng: random.Random) -> FieldAction:
    return FieldAction(
        path=rng.choice(_TEXTS),
        action=rng.choice(["encrypt", "mask", "keep", "drop", rng.choice(_TEXTS)]),
        mode=rng.choice(["field", "inline"]),
        entity_types=tuple(rng.sample(_TEXTS, rng.randint(0, 3))),
        category=rng.choice([None, "PII", rng.choice(_TEXTS)]),
        sensitivity=rng.choice([None, "confidential", "internal", rng.choice(_TEXTS)]),
        source=rng.choice(["rule", "policy"]),
        key_id=rng.choice(_KEY_IDS),
        score=rng.choice(_SCORES),
        spans=rng.choice([1, 2, 0, 2**40]),
    )


def _ref(rng: random.Random) -> RecordRef:
    pseudonym = rng.choice([None, "ab" * 32, "hmac:abc", rng.choice(_TEXTS), "a\x7fb"])
    offset = rng.choice([0, 1, rng.randrange(2**53), 2**53 - 1, -1])
    return RecordRef("raw.payments", rng.randrange(8), offset, pseudonym)


def _same(ref: RecordRef, actions: tuple[FieldAction, ...]) -> None:
    entry, raw = protected_entry_bytes(ref, actions)
    assert entry == protected_entry(ref, actions)
    assert raw == canonical_json(protected_entry(ref, actions)) == rfc8785.dumps(entry)


def test_random_and_hostile_entries_are_their_reference_form() -> None:
    rng = random.Random(14)
    pool = [_action(rng) for _ in range(60)]  # repeats, so the memo answers too
    for _ in range(3000):
        _same(_ref(rng), tuple(rng.choice(pool) for _ in range(rng.randint(0, 9))))


def test_the_fixture_actions_and_no_actions() -> None:
    for n in range(len(ACTIONS) + 1):
        _same(RecordRef("t", 0, 7, "ff" * 32), ACTIONS[:n])
        _same(RecordRef("t", 0, 7, None), ACTIONS[:n])


@pytest.mark.parametrize(("first", "second"), [
    ({"score": 1.0}, {"score": True}), ({"score": 1}, {"score": True}),
    ({"spans": 1}, {"spans": True}), ({"score": 1.0}, {"score": 1}),
    ({"score": 0.0}, {"score": -0.0}), ({"score": 0}, {"score": False}),
])
def test_equal_actions_that_render_differently_never_share_bytes(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    ref = RecordRef("t", 0, 1, None)
    base = ACTIONS[0]
    a = FieldAction(**{**_fields(base), **first})
    b = FieldAction(**{**_fields(base), **second})
    assert a == b and hash(a) == hash(b)  # the trap: a plain memo would answer b with a
    for action in (a, b, a, b):
        _same(ref, (action,))


class _Text(str):
    """A str subclass (an enum-like value): renders as its text."""


def test_unusual_member_types_take_the_reference_path_or_match_it() -> None:
    ref = RecordRef("t", 0, 1, "p")
    base = _fields(ACTIONS[0])
    odd = [
        FieldAction(**{**base, "entity_types": [_Text("EMAIL_ADDRESS")]}),  # type: ignore[arg-type]
        FieldAction(**{**base, "path": _Text("email")}),
        FieldAction(**{**base, "entity_types": ("EMAIL_ADDRESS",)}),
        FieldAction(**{**base, "category": 1}),  # type: ignore[arg-type]
        FieldAction(**{**base, "category": True}),  # type: ignore[arg-type]
        FieldAction(**{**base, "category": 1.0}),  # type: ignore[arg-type]
    ]
    for action in odd + odd:
        _same(ref, (action,))
    for r in (RecordRef("t", 0, True, "p"), RecordRef("t", 0, 2**53, "p"),  # type: ignore[arg-type]
              RecordRef("t", 0, 1, _Text("p"))):
        with pytest.raises(CanonicalizationError) if r.offset == 2**53 else nullcontext():
            _same(r, ACTIONS)


def test_an_entry_without_canonical_form_raises_every_time_and_is_not_listed() -> None:
    bad = FieldAction(**{**_fields(ACTIONS[0]), "path": "lone \ud800 surrogate"})
    batch = BatchEntries("t", 0)
    batch.add_protected(RecordRef("t", 0, 1, None), ACTIONS)
    for _ in range(2):
        with pytest.raises(CanonicalizationError):
            batch.add_protected(RecordRef("t", 0, 2, None), (ACTIONS[0], bad))
        with pytest.raises(CanonicalizationError):
            canonical_json(protected_entry(RecordRef("t", 0, 2, None), (bad,)))
    nan = FieldAction(**{**_fields(ACTIONS[0]), "score": float("nan")})
    with pytest.raises(CanonicalizationError):
        batch.add_protected(RecordRef("t", 0, 3, None), (nan,))
    assert batch.records() == ((1,), (entry_digest(batch.entries[0]),))
    assert batch.raw == [canonical_json(batch.entries[0])]


def test_the_memo_is_bounded() -> None:
    ref = RecordRef("t", 0, 1, None)
    for i in range(entry_bytes.MEMO_SIZE + 50):
        _same(ref, (FieldAction(**{**_fields(ACTIONS[0]), "path": f"p{i}", "key_id": f"k{i}"}),))
    assert entry_bytes._field_bytes.cache_info().currsize <= entry_bytes.MEMO_SIZE
    assert entry_bytes._key_ids_bytes.cache_info().currsize <= entry_bytes.MEMO_SIZE


def _fields(action: FieldAction) -> dict[str, Any]:
    return {name: getattr(action, name) for name in FieldAction.__slots__}


def test_the_same_action_object_again_gives_fresh_entries_and_the_same_bytes() -> None:
    ref = RecordRef("t", 0, 5, None)
    protected_entry_bytes(ref, ACTIONS)  # remembered: the next two are by identity
    first, raw = protected_entry_bytes(ref, ACTIONS)
    first["fields"][0]["path"] = "changed"  # a consumer may change what it was handed
    first["fields"][0]["entity_types"].append("X")
    again, raw_again = protected_entry_bytes(ref, ACTIONS)
    assert again == protected_entry(ref, ACTIONS) and raw_again == raw
    assert all(a is not b for a, b in zip(first["fields"], again["fields"], strict=True))
    assert len(entry_bytes._BY_ID) <= entry_bytes.MEMO_SIZE


def test_the_reference_exception_wins_whatever_fails_first() -> None:
    ref = RecordRef("t", 0, 1, None)
    bad = FieldAction(**{**_fields(ACTIONS[0]), "path": "lone \ud800"})
    odd = FieldAction(**{**_fields(ACTIONS[0]), "entity_types": 5})  # type: ignore[arg-type]
    for actions in ((bad, odd), (odd, bad), (odd,)):
        with pytest.raises(TypeError):
            protected_entry(ref, actions)
        with pytest.raises(TypeError):
            protected_entry_bytes(ref, actions)
    mixed = FieldAction(**{**_fields(ACTIONS[0]), "key_id": 5})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        protected_entry_bytes(ref, (bad, ACTIONS[0], mixed))  # sorted() of str and int
