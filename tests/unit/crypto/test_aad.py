from __future__ import annotations

from streamsec.crypto.aad import ciphertext_aad, encode_fields, wrapped_key_aad


def test_length_prefix_makes_encoding_injective() -> None:
    assert encode_fields("a|b", "c") != encode_fields("a", "b|c")
    assert encode_fields("ab", "") != encode_fields("a", "b")
    assert encode_fields("") == b"\x00\x00\x00\x00"
    assert encode_fields("é") == b"\x00\x00\x00\x02\xc3\xa9"


def test_ciphertext_aad_layout() -> None:
    aad = ciphertext_aad(version=1, key_id="ktestvector", alg="gcm", topology="t", path="p")
    assert aad == encode_fields("ssec", "v1", "ktestvector", "gcm", "t", "p")


def test_every_ciphertext_field_changes_the_aad() -> None:
    base = dict(version=1, key_id="ktestvector", alg="gcm", topology="t", path="a.b")
    variants = [
        {**base, "version": 2},
        {**base, "key_id": "kaaaaaaaaaa"},
        {**base, "alg": "siv"},
        {**base, "topology": "u"},
        {**base, "path": "a.c"},
    ]
    seen = {ciphertext_aad(**base)}  # type: ignore[arg-type]
    for variant in variants:
        seen.add(ciphertext_aad(**variant))  # type: ignore[arg-type]
    assert len(seen) == len(variants) + 1


def test_wrapped_key_aad_distinguishes_subject_and_domain() -> None:
    common = dict(key_id="kaaaaaaaaaa", purpose="encrypt", owner="t", version=1)
    plain = wrapped_key_aad(subject=None, **common)  # type: ignore[arg-type]
    subject = wrapped_key_aad(subject="abc", **common)  # type: ignore[arg-type]
    assert plain != subject
    assert not plain.startswith(encode_fields("ssec"))
