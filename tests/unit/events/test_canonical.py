from __future__ import annotations

import math
import random
import struct
from enum import IntEnum, StrEnum
from typing import Any

import pytest
import rfc8785

from streamsec.events.canonical import (
    CanonicalizationError,
    canonical_json,
    compute_digest,
    genesis,
    raw_digest_ok,
    signed_message,
    wire,
)


def test_rfc8785_examples() -> None:
    # key order by UTF-16 code units, ECMAScript numbers, minimal escapes
    # (U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000)
    value = {"b": 1.0, "a": [1e21, 1e-7, 0.000001, -0.0], "\ue000": "\n\u2028", "\U0001f600": 1}
    expected = '{"a":[1e+21,1e-7,0.000001,0],"b":1,"\U0001f600":1,"\ue000":"\\n\u2028"}'
    assert canonical_json(value) == expected.encode()


def test_key_order_and_number_spelling_do_not_matter() -> None:
    assert canonical_json({"x": 1, "y": [2.0, "z"]}) == canonical_json({"y": [2, "z"], "x": 1.0})


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    alphabet = [
        "a",
        "Z",
        "\u00e9",
        "\u20ac",
        "\U0001f600",
        "\ue000",
        "\uffff",
        '"',
        "\\",
        "\n",
        "\x00",
        "\x1f",
        "\x7f",
        "\u2028",
    ]
    pick = rng.randrange(8 if depth < 3 else 5)
    if pick == 0:
        return rng.choice([None, True, False])
    if pick == 1:
        return rng.choice([rng.randrange(-(10**6), 10**6), 2**53 - 1, -(2**53 - 1)])
    if pick == 2:
        return rng.choice(
            [
                rng.uniform(-1, 1) * 10 ** rng.randrange(-30, 30),
                struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0],
                float(2**53 + 2),
                1e16,
                1e21,
                1e-7,
                5e-324,
                0.1,
                -0.0,
                float(rng.randrange(100)),
            ]
        )
    if pick in (3, 4):
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
    if pick == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(4))): _random_value(
            rng, depth + 1
        )
        for _ in range(rng.randrange(5))
    }


def test_fast_path_matches_the_reference_implementation() -> None:
    rng = random.Random(20250301)
    checked = 0
    for _ in range(4000):
        value = _random_value(rng)
        try:
            reference: bytes | None = rfc8785.dumps(value)
        except rfc8785.CanonicalizationError:
            reference = None
        try:
            ours: bytes | None = canonical_json(value)
        except CanonicalizationError:
            ours = None
        assert ours == reference, value
        checked += reference is not None
    assert checked > 3000


def test_enum_subclasses_serialize_as_their_values() -> None:
    class Color(StrEnum):
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    assert canonical_json({"c": Color.RED, "l": Level.HIGH}) == b'{"c":"red","l":3}'


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, 2**53, {1: "int key"}, "\ud800", {"x": object()}]
)
def test_values_outside_json_are_refused_without_quoting_them(value: Any) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonical_json(value)
    assert "\ud800" not in str(info.value)
    assert "9007199254740992" not in str(info.value)


def test_digest_ignores_digest_and_sig_and_the_signature_covers_the_digest() -> None:
    event = {"a": 1, "seq": 0}
    digest = compute_digest(event)
    assert compute_digest({**event, "digest": "x", "sig": "y"}) == digest
    signed = {**event, "digest": digest, "sig": "s"}
    assert signed_message(signed) == canonical_json({**event, "digest": digest})


def test_the_digest_checks_on_the_wire_bytes_as_on_the_parsed_event() -> None:
    """Random data (fast and slow canonical path): the byte-level check agrees with
    recomputing, and any change to the bytes fails it."""
    rng = random.Random(77)
    checked = 0
    for _ in range(1500):
        event = {"chain": "w/s/0/r", "data": _random_value(rng), "id": "e", "seq": 3}
        try:
            event["digest"] = compute_digest(event)
        except CanonicalizationError:
            continue
        raw = wire(event)
        assert raw_digest_ok(raw, event["digest"])
        flipped = raw.replace(b'"seq":3', b'"seq":4')
        assert not raw_digest_ok(flipped, event["digest"])
        checked += 1
    assert checked > 1000
    assert not raw_digest_ok(b'{"chain":"x"}', "0" * 64)


def test_genesis_is_fixed_per_chain_and_differs_between_chains() -> None:
    assert genesis("w/0/r") == genesis("w/0/r")
    assert genesis("w/0/r") != genesis("w/1/r")
    assert len(genesis("w/0/r")) == 64


def test_plain_values_skip_the_copy_and_still_match_the_reference() -> None:
    """The no-copy check (``_plain``) only passes what the C encoder renders as RFC 8785
    does: on random values, a plain one serialises to the reference bytes as it is."""
    from streamsec.events.canonical import _dumps, _plain

    rng = random.Random(20261202)
    plain = 0
    for _ in range(4000):
        value = _random_value(rng)
        if _plain(value):
            assert _dumps(value) == rfc8785.dumps(value), value
            plain += 1
    assert plain > 1000
    assert not _plain({"x": 1.0}) and not _plain({"x": 2**53}) and not _plain({1: "a"})
    assert not _plain([math.nan]) and not _plain({"x": 1e21})


def test_digest_and_message_are_what_the_two_functions_make() -> None:
    """The checkpoint writer's one-step digest + signed message (``data`` serialised
    once) gives the bytes of compute_digest and signed_message, the splice marker,
    non-plain values and a Precanonical batch included."""
    from streamsec.events.canonical import Precanonical, digest_and_message

    marker = "\x00streamsec.precanonical\x00"
    rng = random.Random(20261203)
    events: list[dict[str, Any]] = [
        {"type": "t", "seq": 3, "data": {"a": [1, 2.5, "x"], "b": {"c": None}}},
        {"type": marker, "data": {"a": 1}},
        {"type": "t", "data": {"a": marker, "n": 1.0}},
        {"type": "t", "data": {"records": Precanonical([{"a": 1}], [b'{"a":1}'])}},
        {"type": "t", "data": "not an object", "digest": "old", "sig": "old"},
    ]
    events += [{"type": "t", "seq": i, "data": {"v": _random_value(rng)}} for i in range(300)]
    for event in events:
        try:
            digest = compute_digest(event)
        except CanonicalizationError:
            with pytest.raises(CanonicalizationError):
                digest_and_message(event)
            continue
        body = {k: v for k, v in event.items() if k not in ("digest", "sig")}
        assert digest_and_message(event) == (digest, signed_message({**body, "digest": digest}))
