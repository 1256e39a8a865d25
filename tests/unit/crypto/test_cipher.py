from __future__ import annotations

import pytest

from streamsec.crypto.cipher import PSEUDONYM_RE, KeyringCipher
from streamsec.crypto.envelope import (
    ENVELOPE_RE,
    Envelope,
    b64url_encode,
    format_envelope,
    parse_envelope,
)
from streamsec.crypto.keys import KeyPurpose
from streamsec.errors import (
    DecryptionError,
    EncryptionError,
    EnvelopeFormatError,
    KeyDestroyedError,
    KeyNotFoundError,
)
from streamsec.testing.keys import InMemoryKeyProvider

SECRET = b"4111 1111 1111 1111"
PATH = "orders[*].card.number"


def test_gcm_round_trip_and_randomized(cipher: KeyringCipher) -> None:
    a = cipher.encrypt(SECRET, path=PATH)
    b = cipher.encrypt(SECRET, path=PATH)
    assert a != b
    assert ENVELOPE_RE.fullmatch(a)
    assert parse_envelope(a).alg == "gcm"
    assert cipher.decrypt(a, path=PATH) == SECRET
    assert cipher.decrypt(b, path=PATH) == SECRET
    assert SECRET.decode() not in a


def test_siv_is_deterministic_per_key_and_path(provider: InMemoryKeyProvider) -> None:
    cipher = KeyringCipher(provider, "orders")
    a = cipher.encrypt(SECRET, path=PATH, deterministic=True)
    assert parse_envelope(a).alg == "siv"
    assert cipher.encrypt(SECRET, path=PATH, deterministic=True) == a
    assert cipher.encrypt(b"other", path=PATH, deterministic=True) != a
    assert cipher.encrypt(SECRET, path="other.path", deterministic=True) != a
    assert cipher.decrypt(a, path=PATH) == SECRET
    # another topology (other keys) and a rotated key give other ciphertexts
    assert KeyringCipher(provider, "shop").encrypt(SECRET, path=PATH, deterministic=True) != a
    assert (
        KeyringCipher(InMemoryKeyProvider(), "orders").encrypt(
            SECRET, path=PATH, deterministic=True
        )
        != a
    )
    provider.rotate("orders", KeyPurpose.DETERMINISTIC)
    b = cipher.encrypt(SECRET, path=PATH, deterministic=True)
    assert b != a
    assert cipher.decrypt(a, path=PATH) == SECRET  # old version still decrypts


def test_empty_plaintext(cipher: KeyringCipher) -> None:
    for deterministic in (False, True):
        token = cipher.encrypt(b"", path=PATH, deterministic=deterministic)
        assert cipher.decrypt(token, path=PATH) == b""


def _flip(token: str, index: int) -> str:
    env = parse_envelope(token)
    payload = bytearray(env.payload)
    payload[index] ^= 0x01
    return format_envelope(Envelope(env.key_id, env.alg, bytes(payload)))


@pytest.mark.parametrize("deterministic", [False, True])
@pytest.mark.parametrize("index", [0, 5, 12, -1])
def test_flipped_byte_fails_authentication(
    cipher: KeyringCipher, deterministic: bool, index: int
) -> None:
    token = cipher.encrypt(SECRET, path=PATH, deterministic=deterministic)
    with pytest.raises(DecryptionError, match="authentication") as info:
        cipher.decrypt(_flip(token, index), path=PATH)
    assert info.value.context["path"] == PATH
    assert info.value.context["key_id"] == parse_envelope(token).key_id


@pytest.mark.parametrize("deterministic", [False, True])
def test_truncated_ciphertext_fails(cipher: KeyringCipher, deterministic: bool) -> None:
    token = cipher.encrypt(SECRET, path=PATH, deterministic=deterministic)
    env = parse_envelope(token)
    for cut in (1, 4, 16):
        short = format_envelope(Envelope(env.key_id, env.alg, env.payload[:-cut]))
        with pytest.raises(DecryptionError):
            cipher.decrypt(short, path=PATH)
    with pytest.raises(DecryptionError):
        cipher.decrypt(token[:-3], path=PATH)


def test_changed_key_id_fails(provider: InMemoryKeyProvider, cipher: KeyringCipher) -> None:
    token = cipher.encrypt(SECRET, path=PATH)
    old_id = parse_envelope(token).key_id
    new_id = provider.rotate("orders", KeyPurpose.ENCRYPT).id
    forged = token.replace(old_id, new_id)
    with pytest.raises(DecryptionError, match="authentication") as info:
        cipher.decrypt(forged, path=PATH)
    assert info.value.context["key_id"] == new_id
    with pytest.raises(KeyNotFoundError) as missing:
        cipher.decrypt(token.replace(old_id, "kzzzzzzzzzz"), path=PATH)
    assert missing.value.context["path"] == PATH


def test_changed_alg_or_version_fails(cipher: KeyringCipher) -> None:
    gcm = cipher.encrypt(SECRET, path=PATH)
    with pytest.raises(DecryptionError, match="does not match its key"):
        cipher.decrypt(gcm.replace(":gcm:", ":siv:"), path=PATH)
    siv = cipher.encrypt(SECRET, path=PATH, deterministic=True)
    with pytest.raises(DecryptionError, match="does not match its key"):
        cipher.decrypt(siv.replace(":siv:", ":gcm:"), path=PATH)
    with pytest.raises(EnvelopeFormatError) as info:
        cipher.decrypt(gcm.replace("ssec:v2:", "ssec:v3:"), path=PATH)
    assert info.value.context["path"] == PATH
    # a v2 envelope relabelled v1 (no binding, 12-byte nonce) fails authentication
    with pytest.raises(DecryptionError, match="authentication"):
        cipher.decrypt(gcm.replace("ssec:v2:", "ssec:v1:"), path=PATH)
    with pytest.raises(DecryptionError, match="authentication"):
        cipher.decrypt(siv.replace("ssec:v2:", "ssec:v1:"), path=PATH)


@pytest.mark.parametrize("deterministic", [False, True])
def test_ciphertext_moved_to_another_field_fails(
    cipher: KeyringCipher, deterministic: bool
) -> None:
    token = cipher.encrypt(SECRET, path=PATH, deterministic=deterministic)
    with pytest.raises(DecryptionError, match="moved to another field") as info:
        cipher.decrypt(token, path="customer.note")
    assert info.value.context["path"] == "customer.note"
    assert info.value.context["key_id"] == parse_envelope(token).key_id
    assert SECRET.decode() not in str(info.value)


def test_ciphertext_moved_to_another_topology_fails(provider: InMemoryKeyProvider) -> None:
    orders = KeyringCipher(provider, "orders")
    token = orders.encrypt(SECRET, path=PATH)
    with pytest.raises(DecryptionError, match="another topology") as info:
        KeyringCipher(provider, "shop").decrypt(token, path=PATH)
    assert info.value.context["path"] == PATH


def test_topology_is_bound_even_if_key_owner_check_were_skipped(
    provider: InMemoryKeyProvider,
) -> None:
    """The AAD itself binds the topology, independently of the key-owner check."""
    from streamsec.crypto.cipher import seal, unseal

    key = provider.current_key("orders", KeyPurpose.ENCRYPT)
    token = seal(key, SECRET, topology="orders", path=PATH)
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        unseal(key, parse_envelope(token), topology="shop", path=PATH)


def test_subject_keys_are_separate_and_shreddable(provider: InMemoryKeyProvider) -> None:
    cipher = KeyringCipher(provider, "orders")
    alice = cipher.encrypt(SECRET, path=PATH, subject="alice")
    bob = cipher.encrypt(SECRET, path=PATH, subject="bob")
    shared = cipher.encrypt(SECRET, path=PATH)
    ids = {parse_envelope(t).key_id for t in (alice, bob, shared)}
    assert len(ids) == 3
    provider.destroy_subject("orders", "alice")
    with pytest.raises(KeyDestroyedError) as info:
        cipher.decrypt(alice, path=PATH)
    assert info.value.context["path"] == PATH
    assert "alice" not in str(info.value)
    with pytest.raises(KeyDestroyedError):
        cipher.encrypt(SECRET, path=PATH, subject="alice")
    with pytest.raises(KeyDestroyedError):
        cipher.encrypt(SECRET, path=PATH, subject="alice", deterministic=True)
    assert cipher.decrypt(bob, path=PATH) == SECRET
    assert cipher.decrypt(shared, path=PATH) == SECRET


def test_pseudonym_format_and_stability(provider: InMemoryKeyProvider) -> None:
    cipher = KeyringCipher(provider, "orders")
    token, key_id = cipher.pseudonymize(b"jane@example.com", path="a")
    match = PSEUDONYM_RE.fullmatch(token)
    assert match is not None
    assert match["key_id"] == key_id
    assert ENVELOPE_RE.search(token) is None
    assert cipher.pseudonymize(b"jane@example.com", path="b")[0] == token  # joinable
    assert cipher.pseudonymize(b"john@example.com", path="a")[0] != token
    assert KeyringCipher(provider, "shop").pseudonymize(b"jane@example.com", path="a")[0] != token
    provider.rotate("orders", KeyPurpose.HASH)
    rotated, new_id = cipher.pseudonymize(b"jane@example.com", path="a")
    assert new_id != key_id
    assert rotated != token


def test_key_id_of(cipher: KeyringCipher) -> None:
    token = cipher.encrypt(SECRET, path=PATH)
    assert cipher.key_id_of(token) == parse_envelope(token).key_id
    with pytest.raises(EnvelopeFormatError):
        cipher.key_id_of("not an envelope")


def test_bad_plaintext_type_is_an_encryption_error(cipher: KeyringCipher) -> None:
    with pytest.raises(EncryptionError) as info:
        cipher.encrypt("text", path=PATH)  # type: ignore[arg-type]
    assert info.value.context["path"] == PATH


def test_decrypt_garbage_reports_format(cipher: KeyringCipher) -> None:
    with pytest.raises(EnvelopeFormatError) as info:
        cipher.decrypt("ssec:v1:kaaaaaaaaaa:gcm:" + b64url_encode(b"x" * 8), path=PATH)
    assert info.value.context["path"] == PATH
    assert info.value.context["key_id"] == "kaaaaaaaaaa"


def test_errors_expose_context_as_attributes(cipher: KeyringCipher) -> None:
    token = cipher.encrypt(SECRET, path=PATH)
    with pytest.raises(DecryptionError) as info:
        cipher.decrypt(token, path="elsewhere")
    assert getattr(info.value, "path") == "elsewhere"  # noqa: B009
    assert getattr(info.value, "key_id") == parse_envelope(token).key_id  # noqa: B009
    assert info.value.reason == "decryption"


def test_a_forgotten_subject_gets_no_fresh_key_under_a_category_kek(
    provider: InMemoryKeyProvider,
) -> None:
    from streamsec.errors import SubjectForgottenError

    cipher = KeyringCipher(provider, "orders", separate_by_category=True)
    cipher.encrypt(SECRET, path=PATH, subject="alice", category="PCI")
    provider.destroy_subject("orders", "alice")
    before = len(provider.list_keys("orders"))
    for category in ("PCI", "PII", None):
        with pytest.raises(SubjectForgottenError):
            cipher.encrypt(SECRET, path=PATH, subject="alice", category=category)
    assert len(provider.list_keys("orders")) == before
