"""A cipher reuses a GCM subkey seed for at most SUBKEY_USES messages under one data
key, never reuses a whole 24-byte nonce, starts a new seed for a rotated key, holds a
bounded number of keys, and reads an envelope it just wrote back by its key id
without parsing it."""

from __future__ import annotations

from collections import Counter

import pytest

from streamsec.crypto import cipher as cipher_module
from streamsec.crypto.cipher import SUBKEY_USES, KeyringCipher, Subkeys
from streamsec.crypto.envelope import parse_envelope
from streamsec.crypto.keys import KeyPurpose
from streamsec.testing.keys import InMemoryKeyProvider

PATH = "customer.email"


def _nonce(token: str) -> bytes:
    return parse_envelope(token).payload[:24]


def test_a_seed_serves_at_most_subkey_uses_messages_and_every_nonce_is_new() -> None:
    cipher = KeyringCipher(InMemoryKeyProvider(), "orders")
    n = 2 * SUBKEY_USES + 10
    tokens = [cipher.encrypt(f"value {i}".encode(), path=PATH) for i in range(n)]
    seeds = Counter(_nonce(t)[:12] for t in tokens)
    assert sorted(seeds.values()) == [10, SUBKEY_USES, SUBKEY_USES]
    assert len({_nonce(t) for t in tokens}) == n  # the GCM half is fresh every time
    assert [cipher.decrypt(t, path=PATH) for t in tokens] == [
        f"value {i}".encode() for i in range(n)
    ]


def test_an_envelope_with_a_shared_seed_still_opens_only_where_it_was_sealed() -> None:
    cipher = KeyringCipher(InMemoryKeyProvider(), "orders")
    a = cipher.encrypt(b"jane@example.com", path=PATH)
    b = cipher.encrypt(b"joe@example.com", path="customer.backup_email")
    assert _nonce(a)[:12] == _nonce(b)[:12]
    with pytest.raises(Exception, match="failed authentication"):
        cipher.decrypt(a, path="customer.backup_email")


def test_a_rotated_key_gets_a_new_seed_at_once() -> None:
    provider = InMemoryKeyProvider()
    cipher = KeyringCipher(provider, "orders")
    before = cipher.encrypt(b"x", path=PATH)
    provider.rotate("orders", KeyPurpose.ENCRYPT)
    after = cipher.encrypt(b"x", path=PATH)
    assert parse_envelope(after).key_id != parse_envelope(before).key_id
    assert _nonce(after)[:12] != _nonce(before)[:12]
    assert cipher.decrypt(before, path=PATH) == cipher.decrypt(after, path=PATH) == b"x"


def test_per_subject_keys_do_not_grow_the_cache_without_bound() -> None:
    cipher = KeyringCipher(InMemoryKeyProvider(), "orders")
    for i in range(600):
        cipher.encrypt(b"x", path=PATH, subject=f"subject-{i}")
    assert 0 < len(cipher._subkeys._by_key) <= cipher_module._SUBKEYS_KEPT


def test_siv_keys_bypass_the_cache() -> None:
    subkeys = Subkeys()
    cipher = KeyringCipher(InMemoryKeyProvider(), "orders")
    cipher._subkeys = subkeys
    token = cipher.encrypt(b"x", path=PATH, deterministic=True)
    assert parse_envelope(token).alg == "siv" and not subkeys._by_key
    assert cipher.encrypt(b"x", path=PATH, deterministic=True) == token


def test_the_key_id_of_the_last_envelope_needs_no_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cipher = KeyringCipher(InMemoryKeyProvider(), "orders")
    first = cipher.encrypt(b"a", path=PATH)
    last = cipher.encrypt(b"b", path=PATH, deterministic=True)
    expected = {t: parse_envelope(t).key_id for t in (first, last)}
    monkeypatch.setattr(cipher_module, "_KEY_ID_RE", None)  # any parse would now fail
    assert cipher.key_id_of(last) == expected[last]
    monkeypatch.undo()
    assert cipher.key_id_of(first) == expected[first]  # an older one is read from its header
    assert cipher.key_id_of(str(last)) == expected[last]
