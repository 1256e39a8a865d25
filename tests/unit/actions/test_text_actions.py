"""mask, redact, hash, keep and drop."""

from __future__ import annotations

from typing import Any

import pytest

from streamsec.actions import get_action
from streamsec.actions.mask import mask_text
from streamsec.crypto.cipher import PSEUDONYM_RE
from streamsec.crypto.keys import KeyPurpose
from streamsec.errors import ProtectionError
from streamsec.testing.keys import InMemoryKeyProvider
from tests.unit.actions.conftest import MakeCtx


@pytest.mark.parametrize(
    ("text", "first", "last", "char", "expected"),
    [
        ("4111111111111111", 0, 4, "*", "************1111"),
        ("4111111111111111", 6, 4, "#", "411111######1111"),
        ("jane", 0, 0, "*", "****"),
        ("jane", 2, 2, "*", "****"),  # would reveal everything: all masked
        ("jane", 1, 5, "*", "****"),
        ("", 1, 1, "*", ""),
        ("日本語テキスト", 1, 1, "x", "日xxxxxト"),
    ],
)
def test_mask_text(text: str, first: int, last: int, char: str, expected: str) -> None:
    assert mask_text(text, keep_first=first, keep_last=last, mask_char=char) == expected
    assert len(expected) == len(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234567, "*****67"),
        (12.5, "**.5"),
        (True, "**ue"),
        (None, "**ll"),
        ({"a": 1}, "*****1}"),
        ([1, 2], "***2]"),
    ],
)
def test_mask_non_strings_use_json_text(make_ctx: MakeCtx, value: Any, expected: str) -> None:
    outcome = get_action("mask").apply(value, make_ctx(keep_last=2))
    assert outcome.value == expected
    assert outcome.key_id is None


def test_mask_span_and_bad_params(make_ctx: MakeCtx) -> None:
    assert get_action("mask").apply_span("Jane", make_ctx(keep_first=1)).value == "J***"
    with pytest.raises(ProtectionError) as info:
        get_action("mask").apply("x", make_ctx(mask_char="**"))
    assert info.value.context["path"] == "customer.email"


@pytest.mark.parametrize(
    ("entity", "placeholder", "expected"),
    [
        ("EMAIL_ADDRESS", None, "<EMAIL_ADDRESS>"),
        (None, None, "<REDACTED>"),
        ("PERSON", "[{entity} removed]", "[PERSON removed]"),
        (None, "[{entity}]", "[REDACTED]"),
        ("PERSON", "{0} {entity!r} {{", "{0} {entity!r} {{"),  # no str.format surprises
        ("PERSON", "XXX", "XXX"),
    ],
)
def test_redact(
    make_ctx: MakeCtx, entity: str | None, placeholder: str | None, expected: str
) -> None:
    params = {} if placeholder is None else {"placeholder": placeholder}
    ctx = make_ctx(entity=entity, **params)
    for value in ("jane@example.com", 42, {"a": 1}, None):
        outcome = get_action("redact").apply(value, ctx)
        assert outcome.value == expected
        assert outcome.key_id is None
    assert get_action("redact").apply_span("Jane", ctx).value == expected


def test_hash_pseudonyms(make_ctx: MakeCtx, provider: InMemoryKeyProvider) -> None:
    ctx = make_ctx()
    action = get_action("hash")
    outcome = action.apply("jane@example.com", ctx)
    assert PSEUDONYM_RE.fullmatch(outcome.value)
    assert outcome.key_id == provider.current_key("orders", KeyPurpose.HASH).id
    assert action.apply("jane@example.com", make_ctx("other.field")).value == outcome.value
    assert action.apply_span("jane@example.com", ctx).value == outcome.value
    assert action.apply("john@example.com", ctx).value != outcome.value
    assert action.apply(3, ctx).value == action.apply("3", ctx).value
    assert action.apply({"a": 1}, ctx).value == action.apply('{"a":1}', ctx).value
    assert action.apply(3, ctx).value != action.apply(3.5, ctx).value
    assert "jane" not in outcome.value


def test_hash_differs_per_topology_key(make_ctx: MakeCtx) -> None:
    a = get_action("hash").apply("x", make_ctx(topology="a")).value
    b = get_action("hash").apply("x", make_ctx(topology="b")).value
    assert a != b


def test_keep(make_ctx: MakeCtx) -> None:
    value = {"a": [1, 2]}
    outcome = get_action("keep").apply(value, make_ctx())
    assert outcome.value is value
    assert not outcome.dropped
    assert outcome.key_id is None
    assert get_action("keep").apply_span("Jane", make_ctx()).value == "Jane"


def test_drop(make_ctx: MakeCtx) -> None:
    outcome = get_action("drop").apply("jane@example.com", make_ctx())
    assert outcome.dropped
    assert outcome.value is None
    span = get_action("drop").apply_span("Jane", make_ctx())
    assert span.value == ""
    assert not span.dropped
