from __future__ import annotations

from streamsec.crypto.cipher import KeyringCipher
from streamsec.crypto.plaintext import encode_value
from streamsec.decryption.envelopes import (
    ProtectedLeaf,
    key_ids_in,
    open_value,
    protected_leaves,
    replace_slots,
)
from streamsec.errors import KeyDestroyedError
from streamsec.testing.keys import InMemoryKeyProvider


def test_envelopes_in_text_followed_by_base64url_characters() -> None:
    cipher = KeyringCipher(InMemoryKeyProvider(), "t")
    a = cipher.encrypt(encode_value("Smith"), path="note")
    b = cipher.encrypt(encode_value("Jones"), path="note")
    text = f"{a}-{b}_x and {a}"
    leaf = ProtectedLeaf(("note",), "note", text)
    slots = open_value(leaf, lambda token, path: cipher.decrypt(token, path=path))
    assert [s.plaintext for s in slots] == [b"sSmith", b"sJones", b"sSmith"]
    assert replace_slots(text, slots, lambda s: (s.plaintext or b"")[1:].decode()) == (
        "Smith-Jones_x and Smith"
    )
    assert replace_slots(text, slots, lambda s: None) == text


def test_destroyed_key_is_reported_not_raised() -> None:
    provider = InMemoryKeyProvider()
    cipher = KeyringCipher(provider, "t")
    token = cipher.encrypt(encode_value(42), path="n", subject="s1")
    provider.destroy_subject("t", "s1")
    record = {"n": token, "m": [1, "plain", f"x {token} y"]}
    leaves = list(protected_leaves(record))
    assert [leaf.path for leaf in leaves] == ["n", "m[*]"]
    assert leaves[0].whole
    assert not leaves[1].whole
    (slot,) = open_value(leaves[0], lambda t, p: cipher.decrypt(t, path=p))
    assert not slot.opened
    assert isinstance(slot.error, KeyDestroyedError)
    assert key_ids_in(record) == {cipher.key_id_of(token)}
