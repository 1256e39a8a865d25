"""``hash``: replace a value with a keyed pseudonym ``hmac:<key id>:<22 chars>``.

HMAC-SHA256 under the topology's ``hash`` key (see ``docs/envelope.md``): stable for
one key, so equal values give equal pseudonyms and can still be joined, but not
reversible and not guessable without the key. Non-string values are hashed as
their JSON text (so ``3`` and ``"3"`` get the same pseudonym).
"""

from __future__ import annotations

from typing import ClassVar

from streamsec.actions._text import value_text
from streamsec.actions.base import ActionContext, ActionOutcome, register
from streamsec.records.paths import JsonValue

__all__ = ["HashAction"]


class HashAction:
    name: ClassVar[str] = "hash"

    def apply(self, value: JsonValue, ctx: ActionContext) -> ActionOutcome:
        return self.apply_span(value_text(value, path=ctx.path), ctx)

    def apply_span(self, text: str, ctx: ActionContext) -> ActionOutcome:
        data = text.encode("utf-8", "surrogatepass")
        token, key_id = ctx.cipher.pseudonymize(data, path=ctx.path)
        return ActionOutcome(value=token, key_id=key_id)


register(HashAction.name, HashAction)
