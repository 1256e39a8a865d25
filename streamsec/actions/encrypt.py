"""``encrypt``: replace a value (or an entity inside text) with a ciphertext envelope.

AES-256-GCM by default; AES-SIV when ``params["deterministic"]`` (equal values in
one field give equal envelopes). Any JSON value is encrypted: the plaintext carries
a type tag (:mod:`streamsec.crypto.plaintext`) so decryption restores the exact
value and type. ``ctx.subject`` selects the data subject's own keys.
"""

from __future__ import annotations

from typing import ClassVar

from streamsec.actions.base import ActionContext, ActionOutcome, register
from streamsec.crypto.envelope import ENVELOPE_RE
from streamsec.crypto.plaintext import encode_value
from streamsec.errors import EncryptionError
from streamsec.records.paths import JsonValue

__all__ = ["EncryptAction", "is_envelope"]


def is_envelope(value: JsonValue) -> bool:
    """True when ``value`` is a string that is exactly one readable (v1 or v2) envelope."""
    return isinstance(value, str) and ENVELOPE_RE.fullmatch(value) is not None


class EncryptAction:
    name: ClassVar[str] = "encrypt"

    def apply(self, value: JsonValue, ctx: ActionContext) -> ActionOutcome:
        try:
            plaintext = encode_value(value)
        except ValueError:
            raise EncryptionError(
                f"a {type(value).__name__} cannot be encrypted", path=ctx.path
            ) from None
        token = ctx.cipher.encrypt(
            plaintext,
            path=ctx.path,
            deterministic=bool(ctx.params.get("deterministic", False)),
            subject=ctx.subject,
            category=ctx.category,
            binding=ctx.binding,
            pad_to=ctx.pad_to,
            entity=ctx.entity_type,
        )
        return ActionOutcome(value=token, key_id=ctx.cipher.key_id_of(token))

    def apply_span(self, text: str, ctx: ActionContext) -> ActionOutcome:
        return self.apply(text, ctx)


register(EncryptAction.name, EncryptAction, params={"deterministic"})
