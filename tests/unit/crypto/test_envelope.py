from __future__ import annotations

import pytest

from streamsec.crypto.envelope import (
    ENVELOPE_RE,
    PREFIX_RE,
    Envelope,
    b64url_decode,
    b64url_encode,
    format_envelope,
    parse_envelope,
)
from streamsec.crypto.keys import new_key_id
from streamsec.errors import DecryptionError, EnvelopeFormatError

PAYLOAD = bytes(range(48))


def test_format_then_parse_round_trips() -> None:
    env = Envelope(key_id="ktestvector", alg="gcm", payload=PAYLOAD)
    token = format_envelope(env)
    assert token.startswith("ssec:v2:ktestvector:gcm:")
    assert "=" not in token
    assert parse_envelope(token) == env
    old = Envelope(key_id="ktestvector", alg="gcm", payload=PAYLOAD, version=1)
    assert format_envelope(old).startswith("ssec:v1:")
    assert parse_envelope(format_envelope(old)) == old


def test_key_ids_are_random_and_well_formed() -> None:
    ids = {new_key_id() for _ in range(200)}
    assert len(ids) == 200
    for key_id in ids:
        assert len(key_id) == 11
        assert key_id[0] == "k"
        assert set(key_id[1:]) <= set("abcdefghijklmnopqrstuvwxyz234567")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("plain text", "not a streamsec ciphertext envelope"),
        ("ssec:v3:ktestvector:gcm:" + b64url_encode(PAYLOAD), "unsupported envelope version"),
        ("ssec:v0:ktestvector:gcm:" + b64url_encode(PAYLOAD), "unsupported envelope version"),
        ("ssec:v02:ktestvector:gcm:" + b64url_encode(PAYLOAD), "unsupported envelope version"),
        ("ssec:v99999:ktestvector:gcm:" + b64url_encode(PAYLOAD), "unsupported envelope version"),
        ("ssec:v2:ktestvector:gcm:" + b64url_encode(bytes(40)), "truncated"),
        ("ssec:v2:ktestvector:siv:" + b64url_encode(bytes(16)), "truncated"),
        ("ssec:v1:KTESTVECTOR:gcm:" + b64url_encode(PAYLOAD), "malformed key id"),
        ("ssec:v1:ktestvector:cbc:" + b64url_encode(PAYLOAD), "unknown envelope algorithm"),
        ("ssec:v1:ktestvector:gcm:" + b64url_encode(PAYLOAD) + "==", "not base64url"),
        ("ssec:v1:ktestvector:gcm:" + b64url_encode(PAYLOAD)[:-1] + "!", "not base64url"),
        ("ssec:v1:ktestvector:gcm:" + b64url_encode(bytes(27)), "truncated"),
        ("ssec:v1:ktestvector:siv:" + b64url_encode(bytes(15)), "truncated"),
        ("ssec:v1:ktestvector:gcm:" + b64url_encode(PAYLOAD) + ":extra", "not a streamsec"),
    ],
)
def test_malformed_envelopes_raise_without_quoting(token: str, message: str) -> None:
    with pytest.raises(EnvelopeFormatError, match=message) as info:
        parse_envelope(token)
    assert isinstance(info.value, DecryptionError)
    assert b64url_encode(PAYLOAD)[:10] not in str(info.value)


def test_non_string_is_rejected() -> None:
    with pytest.raises(EnvelopeFormatError):
        parse_envelope(42)  # type: ignore[arg-type]


def test_non_canonical_base64_is_rejected() -> None:
    # 'B' and 'A' differ only in bits that are dropped when decoding 1 trailing byte.
    assert b64url_decode("AA") == b"\x00"
    with pytest.raises(ValueError, match="non-canonical"):
        b64url_decode("AB")


def test_regex_finds_envelopes_in_text() -> None:
    a = format_envelope(Envelope("kaaaaaaaaaa", "gcm", PAYLOAD))
    b = format_envelope(Envelope("kbbbbbbbbbb", "siv", bytes(20)))
    text = f"mail {a}, then ({b}) end"
    found = [m.group(0) for m in ENVELOPE_RE.finditer(text)]
    assert found == [a, b]
    assert [m["key_id"] for m in ENVELOPE_RE.finditer(text)] == ["kaaaaaaaaaa", "kbbbbbbbbbb"]


def test_regex_finds_both_readable_versions_only() -> None:
    v1 = format_envelope(Envelope("kaaaaaaaaaa", "gcm", PAYLOAD, version=1))
    v2 = format_envelope(Envelope("kaaaaaaaaaa", "gcm", PAYLOAD))
    v3 = v2.replace("ssec:v2:", "ssec:v3:")
    assert [m["version"] for m in ENVELOPE_RE.finditer(f"{v1} {v2} {v3}")] == ["1", "2"]
    assert PREFIX_RE.search(v3)


def test_regex_ignores_lookalikes() -> None:
    assert ENVELOPE_RE.search("ssec:v1:short:gcm:AAAA") is None
    assert ENVELOPE_RE.search("hmac:kaaaaaaaaaa:" + "A" * 22) is None


def test_format_rejects_bad_parts() -> None:
    with pytest.raises(ValueError, match="key id"):
        format_envelope(Envelope("nope", "gcm", PAYLOAD))
    with pytest.raises(ValueError, match="version"):
        format_envelope(Envelope("kaaaaaaaaaa", "gcm", PAYLOAD, version=3))


def test_repr_shows_header_only() -> None:
    env = Envelope("kaaaaaaaaaa", "gcm", PAYLOAD)
    assert repr(env) == "Envelope(version=2, key_id=kaaaaaaaaaa, alg=gcm)"
