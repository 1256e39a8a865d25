"""No length leaks: short values of a field give ciphertexts of one length."""

from __future__ import annotations

import pytest

from streamsec.crypto.aad import Binding
from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.plaintext import DEFAULT_PAD, encode_value, pad, unpad
from streamsec.protection.protector import Protector
from streamsec.testing import FakeDetector
from streamsec.testing.keys import InMemoryKeyProvider
from streamsec.topology import parse_topology

ENUM = ["pending", "active", "suspended", "closed", "archived", "deleted"]


def _lengths(values: list[object], **topology: str) -> set[tuple[int, int]]:
    """The distinct (randomized, deterministic) envelope lengths of ``values``."""
    extra = "".join(f"  {k}: {v}\n" for k, v in topology.items())
    topo = parse_topology(
        "name: p\ninput: a\noutput: b\nfields:\n  v: encrypt\n  d: {action: encrypt, "
        "deterministic: true}\n" + (f"encryption:\n{extra}" if extra else "")
    )
    protector = Protector(topo, detector=FakeDetector(), cipher=KeyringCipher(
        InMemoryKeyProvider(), "p"))
    out = set()
    for value in values:
        record = protector.protect({"v": value, "d": value}).record
        out.add((len(record["v"]), len(record["d"])))
    return out


def test_true_and_false_have_equal_lengths() -> None:
    assert _lengths([True, False]) == {(120, 88)}  # 24 + 32 + 16 and 16 + 32 payload bytes


def test_every_value_of_a_six_value_enum_has_one_length() -> None:
    assert len(_lengths(ENUM)) == 1


def test_small_numbers_and_short_strings_have_one_length() -> None:
    assert len(_lengths([0, 7, 42, 1234567, -3.5, None, "", "x", "jane@example.com"])) == 1


def test_without_padding_they_would_differ() -> None:
    assert len(_lengths([True, False], pad_to="1")) == 2
    assert len(_lengths(ENUM, pad_to="1")) > 1


def test_longer_values_leak_only_their_bucket() -> None:
    cipher = KeyringCipher(InMemoryKeyProvider(), "p")
    sizes = {len(cipher.encrypt(b"s" + b"x" * n, path="v")) for n in range(31, 62)}
    assert len(sizes) == 1  # 32..62 tagged bytes: one 64-byte bucket


@pytest.mark.parametrize("bucket", [1, 16, DEFAULT_PAD, 4096])
def test_pad_round_trips(bucket: int) -> None:
    for n in range(0, 70):
        data = encode_value("é" * n)
        padded = pad(data, bucket)
        assert len(padded) % bucket == 0 and len(padded) > len(data)
        assert unpad(padded) == data


def test_pad_rejects_bad_buckets_and_unpad_bad_padding() -> None:
    with pytest.raises(ValueError):
        pad(b"x", 0)
    with pytest.raises(ValueError):
        pad(b"x", 4097)
    for bad in (b"", b"\x00\x00", b"abc", b"ab\x81\x00"):
        with pytest.raises(ValueError):
            unpad(bad)


def test_padding_holds_under_binding_and_determinism() -> None:
    cipher = KeyringCipher(InMemoryKeyProvider(), "p")
    b = Binding("P-1", "", "v")
    tokens = {cipher.encrypt(encode_value(v), path="v", binding=b, deterministic=True)
              for v in (True, False)}
    assert len({len(t) for t in tokens}) == 1 and len(tokens) == 2
