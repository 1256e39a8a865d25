from __future__ import annotations

from typing import Any

import pytest

from streamsec.actions import get_action
from streamsec.actions.encrypt import is_envelope
from streamsec.crypto.envelope import parse_envelope
from streamsec.crypto.keys import KeyPurpose
from streamsec.decryption.envelopes import decrypt_text, decrypt_value
from streamsec.errors import (
    DecryptionError,
    EncryptionError,
    KeyDestroyedError,
    KeyNotFoundError,
)
from streamsec.testing.keys import InMemoryKeyProvider
from tests.unit.actions.conftest import MakeCtx

VALUES: list[Any] = [
    "jane@example.com",
    "",
    "ünïcødé ✓",
    3,
    0,
    -42,
    2**70,
    3.0,
    -0.5,
    True,
    False,
    None,
    [],
    {},
    [1, 2.0, "3", None, False],
    {"street": "12 Main St", "geo": {"lat": 51.5, "lng": -0.12}, "tags": ["a", {"b": None}]},
]


@pytest.mark.parametrize("deterministic", [False, True])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_round_trip_of_every_json_type(make_ctx: MakeCtx, value: Any, deterministic: bool) -> None:
    ctx = make_ctx(deterministic=deterministic)
    outcome = get_action("encrypt").apply(value, ctx)
    assert isinstance(outcome.value, str)
    assert is_envelope(outcome.value)
    assert outcome.key_id == parse_envelope(outcome.value).key_id
    assert not outcome.dropped
    assert parse_envelope(outcome.value).alg == ("siv" if deterministic else "gcm")
    restored = decrypt_value(outcome.value, ctx)
    assert restored == value
    assert type(restored) is type(value)
    assert repr(restored) == repr(value)


def test_key_id_is_the_current_encrypt_key(
    make_ctx: MakeCtx, provider: InMemoryKeyProvider
) -> None:
    outcome = get_action("encrypt").apply("x", make_ctx())
    assert outcome.key_id == provider.current_key("orders", KeyPurpose.ENCRYPT).id


def test_deterministic_equal_values_give_equal_envelopes(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(deterministic=True)
    action = get_action("encrypt")
    assert action.apply("a@b.c", ctx).value == action.apply("a@b.c", ctx).value
    assert action.apply(3, ctx).value != action.apply(3.0, ctx).value  # types differ
    assert action.apply(3, ctx).value != action.apply("3", ctx).value
    randomized = make_ctx()
    assert action.apply("a@b.c", randomized).value != action.apply("a@b.c", randomized).value


def test_moved_value_fails_to_decrypt(make_ctx: MakeCtx) -> None:
    token = get_action("encrypt").apply({"n": 1}, make_ctx("a.b")).value
    with pytest.raises(DecryptionError) as info:
        decrypt_value(token, make_ctx("a.c"))
    assert info.value.context["path"] == "a.c"
    with pytest.raises(DecryptionError):
        decrypt_value(token, make_ctx("a.b", topology="other"))


def test_per_subject_encryption_and_shredding(
    make_ctx: MakeCtx, provider: InMemoryKeyProvider
) -> None:
    alice = make_ctx(subject="alice")
    token = get_action("encrypt").apply("secret", alice).value
    assert decrypt_value(token, alice) == "secret"
    provider.destroy_subject("orders", "alice")
    with pytest.raises(KeyDestroyedError):
        decrypt_value(token, alice)
    with pytest.raises(KeyDestroyedError):
        get_action("encrypt").apply("more", alice)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), b"raw", {1, 2}])
def test_non_json_values_are_an_encryption_error(make_ctx: MakeCtx, value: Any) -> None:
    with pytest.raises(EncryptionError) as info:
        get_action("encrypt").apply(value, make_ctx())
    assert info.value.context["path"] == "customer.email"


def test_span_envelope_replaces_entity_inside_text(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("notes", entity="EMAIL_ADDRESS")
    action = get_action("encrypt")
    first = action.apply_span("jane@example.com", ctx)
    second = action.apply_span("Smith", make_ctx("notes", entity="PERSON"))
    assert first.key_id is not None
    text = f"Write to {first.value}, or ask {second.value}-Jones_{first.value}."
    assert "jane" not in text
    assert (
        decrypt_text(text, ctx) == "Write to jane@example.com, or ask Smith-Jones_jane@example.com."
    )


def test_decrypt_text_without_envelopes_is_unchanged(make_ctx: MakeCtx) -> None:
    assert decrypt_text("nothing here: ssec:v1:short", make_ctx()) == "nothing here: ssec:v1:short"


def test_decrypt_text_strict_and_lenient(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("notes")
    token = get_action("encrypt").apply_span("secret", ctx).value
    other = make_ctx("elsewhere")
    with pytest.raises(DecryptionError) as info:
        decrypt_text(f"a {token} b", other)
    assert info.value.context["path"] == "elsewhere"
    assert decrypt_text(f"a {token} b", other, strict=False) == f"a {token} b"


def test_decrypt_text_of_non_string_envelope_gives_json_text(make_ctx: MakeCtx) -> None:
    ctx = make_ctx("notes")
    token = get_action("encrypt").apply({"a": 1}, ctx).value
    assert decrypt_text(f"x {token}", ctx) == 'x {"a":1}'


def test_decrypt_value_rejects_non_strings(make_ctx: MakeCtx) -> None:
    with pytest.raises(DecryptionError):
        decrypt_value(3, make_ctx())


def test_is_envelope() -> None:
    assert not is_envelope("x")
    assert not is_envelope(3)
    assert not is_envelope("hmac:kaaaaaaaaaa:" + "A" * 22)


def test_independent_providers_cannot_read_each_other(make_ctx: MakeCtx) -> None:
    token = get_action("encrypt").apply("x", make_ctx()).value
    from streamsec.actions.base import ActionContext
    from streamsec.crypto.cipher import KeyringCipher

    foreign = ActionContext(
        topology="orders",
        path="customer.email",
        entity_type=None,
        cipher=KeyringCipher(InMemoryKeyProvider(), "orders"),
    )
    with pytest.raises(KeyNotFoundError) as info:
        decrypt_value(token, foreign)
    assert info.value.context["path"] == "customer.email"
